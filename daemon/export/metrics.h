// The Prometheus surface: every ngxwatch_* family, updated from the event loop and,
// at scrape time, from the kernel's exact counters.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "ngxwatch/events.h"
#include "source/bpf_loader.h"
#include "source/kernel_maps.h"

namespace ngxwatch {

class Metrics : public prometheus::Collectable {
 public:
  Metrics();

  // Event loop: one reset event delivered by the ring buffer.
  void count_reset(const ngxw_conn_event& e);
  void set_probes(const std::vector<ProbeStatus>& probes);
  void set_workers(int workers);
  // Kernel maps to read at every scrape (drops, resets whose events were lost).
  void attach_kernel(const KernelMaps& maps);

  // prometheus::Collectable: syncs kernel counters, then collects the registry.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  void sync_kernel() const;

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& resets_;
  prometheus::Family<prometheus::Counter>& dropped_;
  prometheus::Family<prometheus::Gauge>& probe_attached_;
  prometheus::Family<prometheus::Gauge>& workers_;
  prometheus::Counter& dropped_total_;
  prometheus::Gauge& workers_gauge_;

  mutable std::mutex kernel_mu_;
  bool have_kernel_ = false;
  KernelMaps kernel_;
  mutable uint64_t dropped_seen_ = 0;
  mutable ResetKeyCounts lost_seen_;
};

}  // namespace ngxwatch
