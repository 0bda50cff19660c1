// Which nginx process forked which, as the kernel's fork events say, and when. A
// reload's workers can live and exit between two /proc scans (100 reloads 50 ms apart
// leave most of them unseen): their fork event is then all that ties them to their
// master, and so to its configuration. Fed from the event stream before PendingEvents
// (a process's fork event comes before any other of its events); bounded.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <utility>

#include "source/event.h"

namespace ngxwatch {

class ForkParents {
 public:
  struct Fork {
    uint32_t parent = 0;
    uint64_t ts_ns = 0;  // the kernel's clock (CLOCK_MONOTONIC)
  };
  explicit ForkParents(size_t max_entries = 65536) : max_(max_entries) {}

  // Learns from a process event: a fork records the child, an exec forgets it (the
  // program it runs now is not its parent's: a binary upgrade's new master).
  void on_event(const Event& e);
  std::optional<Fork> of(uint32_t pid) const;
  // The first process pid forked while we watched (0: none). nginx started as a daemon
  // opens its listening sockets, forks the master and exits: the kernel names that
  // first process as the owner of every connection the listeners accept.
  uint32_t first_child(uint32_t pid) const;
  size_t size() const { return by_child_.size(); }

 private:
  void forget_first(uint32_t parent, uint32_t child);

  size_t max_;
  std::unordered_map<uint32_t, Fork> by_child_;
  std::unordered_map<uint32_t, uint32_t> first_child_;  // parent -> its first child
  std::deque<std::pair<uint32_t, uint64_t>> order_;     // (child, fork time), oldest first
  std::deque<uint32_t> parents_;                        // first_child_'s keys, oldest first
};

}  // namespace ngxwatch
