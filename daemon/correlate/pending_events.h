// Events of an nginx process whose master's configuration is not read yet wait here,
// so that a request served in the first milliseconds of a new master (or by a worker
// a reload just forked) is attributed with that master's config instead of going out
// with empty labels. Bounded by count and by time; what leaves without its config is
// counted by reason.
//
// Order: events of one socket leave in the order they came, whatever process sends
// them (the kernel reuses a freed struct sock at once: a later owner's events must not
// overtake an earlier one's that waits); so do the events of one process that waits
// for its config. An event held only behind its socket holds nothing else back, and
// an accepted connection's open event, which carries the listening socket's owner
// (often nginx's first process, long gone) and needs no config, waits for no process:
// one pid that stays unknown delays its own sockets at most, never a worker's stream.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <unordered_map>

#include "source/event.h"

namespace ngxwatch {

// Whether a process's events can be attributed now.
enum class Attribution {
  kReady,       // its master's config is loaded
  kWait,        // not known yet (a new master or worker, read soon)
  kUnreadable,  // its master's config could not be read: never attributable
};

class AttributionSource {
 public:
  virtual ~AttributionSource() = default;
  virtual Attribution attribution(uint32_t pid) const = 0;
};

struct PendingOptions {
  size_t max_events = 32768;  // ~20 MiB of the largest events
  uint64_t max_wait_ns = 5'000'000'000ull;
};

// Read by the exporter's thread while the event loop writes: atomics.
struct PendingStats {
  // Events that waited for their config (or behind an event of their socket that did).
  std::atomic<uint64_t> held{0};
  std::atomic<uint64_t> unreadable{0};  // went on at once: the config is unreadable
  std::atomic<uint64_t> timed_out{0};   // waited max_wait_ns, went on without it
  std::atomic<uint64_t> overflowed{0};  // pushed out by max_events, went on without it
  std::atomic<uint64_t> waiting{0};     // held right now
};

class PendingEvents {
 public:
  using Deliver = std::function<void(const Event&)>;
  explicit PendingEvents(Deliver deliver, PendingOptions o = {})
      : deliver_(std::move(deliver)), o_(o) {}

  // The configs changed: events whose process is now known (or known unreadable) go.
  void set_source(const AttributionSource* source);
  void on_event(const Event& e, uint64_t now_ns);
  // Lets events that waited too long go on without their config.
  void tick(uint64_t now_ns);
  const PendingStats& stats() const { return stats_; }
  size_t waiting() const { return held_.size(); }

 private:
  struct Held {
    Event event;
    uint32_t pid;
    uint64_t sock;
    uint64_t since;
    bool for_config;  // waits for its process's config (else: only behind its socket)
  };
  Attribution state_of(uint32_t pid) const;
  void release_front();
  // Lets go every held event whose process is known now and that no earlier held
  // event of its process or socket is still waiting for.
  void release_ready();
  void forget(const Held& h);
  // Time-outs and overflows free sockets; what waited behind them goes at the next
  // tick, at most every kRescanNs (a scan walks every held event).
  static constexpr uint64_t kRescanNs = 10'000'000;
  bool rescan_ = false;
  uint64_t next_scan_ns_ = 0;

  Deliver deliver_;
  PendingOptions o_;
  const AttributionSource* source_ = nullptr;
  std::deque<Held> held_;
  std::unordered_map<uint32_t, size_t> held_per_pid_;
  std::unordered_map<uint64_t, size_t> held_per_sock_;
  PendingStats stats_;
};

}  // namespace ngxwatch
