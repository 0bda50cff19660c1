#include "export/metrics.h"

#include "correlate/reset_labels.h"

namespace ngxwatch {

using prometheus::BuildCounter;
using prometheus::BuildGauge;

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      resets_(BuildCounter()
                  .Name("ngxwatch_resets_total")
                  .Help("TCP resets (RST) that touched an nginx socket, by side, origin and "
                        "upstream peer")
                  .Register(*registry_)),
      dropped_(BuildCounter()
                   .Name("ngxwatch_events_dropped_total")
                   .Help("Kernel events lost because the ring buffer was full (totals stay exact)")
                   .Register(*registry_)),
      probe_attached_(BuildGauge()
                          .Name("ngxwatch_probe_attached")
                          .Help("1 when the BPF program on this tracepoint is attached")
                          .Register(*registry_)),
      workers_(BuildGauge()
                   .Name("ngxwatch_nginx_workers")
                   .Help("nginx worker processes currently serving (not shutting down)")
                   .Register(*registry_)),
      dropped_total_(dropped_.Add({})),
      workers_gauge_(workers_.Add({})) {}

void Metrics::count_reset(const ngxw_conn_event& e) {
  resets_.Add(reset_labels(e).as_map()).Increment();
}

void Metrics::set_probes(const std::vector<ProbeStatus>& probes) {
  for (const auto& p : probes) probe_attached_.Add({{"probe", p.name}}).Set(p.attached ? 1 : 0);
}

void Metrics::set_workers(int workers) { workers_gauge_.Set(workers); }

void Metrics::attach_kernel(const KernelMaps& maps) {
  std::lock_guard<std::mutex> lk(kernel_mu_);
  kernel_ = maps;
  have_kernel_ = true;
}

void Metrics::sync_kernel() const {
  std::lock_guard<std::mutex> lk(kernel_mu_);
  if (!have_kernel_) return;
  uint64_t dropped = kernel_.counter(NGXW_CTR_EVENTS_DROPPED);
  if (dropped > dropped_seen_) {
    dropped_total_.Increment(static_cast<double>(dropped - dropped_seen_));
    dropped_seen_ = dropped;
  }
  // Resets whose events were dropped are still counted, under the labels the kernel
  // knows; the breakdown they would have had is what is lost, not the total.
  for (const auto& [key, lost] : kernel_.reset_lost()) {
    uint64_t& seen = lost_seen_[key];
    if (lost > seen) {
      resets_.Add(reset_labels(key).as_map()).Increment(static_cast<double>(lost - seen));
      seen = lost;
    }
  }
}

std::vector<prometheus::MetricFamily> Metrics::Collect() const {
  sync_kernel();
  return registry_->Collect();
}

}  // namespace ngxwatch
