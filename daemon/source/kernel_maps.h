// Reads and writes the BPF maps that user space shares with the kernel programs:
// exact per-CPU totals (summed here), the nginx process filter, listeners, seeds.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "ngxwatch/events.h"

namespace ngxwatch {

struct ResetKeyLess {
  bool operator()(const ngxw_reset_key& a, const ngxw_reset_key& b) const;
};
using ResetKeyCounts = std::map<ngxw_reset_key, uint64_t, ResetKeyLess>;

class KernelMaps {
 public:
  KernelMaps() = default;
  KernelMaps(int counters, int reset_totals, int reset_lost, int nginx_pids, int listeners,
             int seeds, int conns)
      : counters_(counters),
        reset_totals_(reset_totals),
        reset_lost_(reset_lost),
        nginx_pids_(nginx_pids),
        listeners_(listeners),
        seeds_(seeds),
        conns_(conns) {}

  uint64_t counter(ngxw_counter idx) const;
  ResetKeyCounts reset_totals() const { return read_keyed(reset_totals_); }
  ResetKeyCounts reset_lost() const { return read_keyed(reset_lost_); }
  // Entries the connection table holds now (a walk of its keys: tens of ms when full).
  uint64_t conn_entries() const;
  // Connections the LRU table evicted: inserted - replaced - deleted - still held.
  uint64_t conn_evictions() const;

  std::set<uint32_t> nginx_pids() const;
  void add_nginx_pid(uint32_t pid, uint32_t parent);
  void remove_nginx_pid(uint32_t pid);
  void add_listener(const ngxw_listen_key& key, uint32_t owner);
  void add_seed(const ngxw_tuple_key& key, const ngxw_seed& seed);

 private:
  ResetKeyCounts read_keyed(int fd) const;
  int counters_ = -1, reset_totals_ = -1, reset_lost_ = -1;
  int nginx_pids_ = -1, listeners_ = -1, seeds_ = -1, conns_ = -1;
};

}  // namespace ngxwatch
