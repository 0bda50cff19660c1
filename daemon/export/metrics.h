// The Prometheus surface: every ngxwatch_* family. Observations arrive from the
// correlator on the event loop; kernel-exact counters are read at scrape time.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "correlate/observations.h"
#include "export/label_fold.h"
#include "ngxwatch/events.h"
#include "source/bpf_loader.h"
#include "source/kernel_maps.h"

namespace ngxwatch {

class Metrics : public prometheus::Collectable, public ObservationSink {
 public:
  // max_locations: location labels kept, the busiest by recent rate
  // (export/label_fold.h); the rest fold into "(other)".
  explicit Metrics(size_t max_locations = 200);

  void on_reset(const ResetObservation& r) override;
  void on_failure(const FailureObservation& f) override;
  void on_client_visible(const ClientStatusObservation& s) override;
  void on_retry_absorbed(const Place& place) override;

  void set_probes(const std::vector<ProbeStatus>& probes);
  // What this kernel gave: ngxwatch_feature_available{feature} and
  // ngxwatch_capture_backend{backend} (1 for the one in use, 0 for the others).
  void set_features(const std::vector<FeatureStatus>& features, const std::string& backend);
  void set_workers(int workers);
  void set_max_locations(size_t n) { max_locations_ = n; }
  void attach_kernel(const KernelMaps& maps);

  // prometheus::Collectable: syncs kernel counters, then collects the registry.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  void sync_kernel() const;
  std::string location_label(const std::string& location);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& resets_;
  prometheus::Family<prometheus::Counter>& upstream_errors_;
  prometheus::Family<prometheus::Counter>& failures_;
  prometheus::Family<prometheus::Counter>& duplicate_risk_;
  prometheus::Family<prometheus::Counter>& client_visible_;
  prometheus::Family<prometheus::Counter>& retries_absorbed_;
  prometheus::Family<prometheus::Histogram>& reset_age_;
  prometheus::Family<prometheus::Histogram>& reset_bytes_;
  prometheus::Family<prometheus::Histogram>& keepalive_idle_;
  prometheus::Family<prometheus::Counter>& dropped_;
  prometheus::Family<prometheus::Counter>& requests_seen_;
  prometheus::Family<prometheus::Counter>& requests_unsampled_;
  prometheus::Family<prometheus::Counter>& heads_lost_;
  prometheus::Family<prometheus::Counter>& heads_flushed_;
  prometheus::Family<prometheus::Counter>& map_evictions_;
  prometheus::Family<prometheus::Counter>& resets_untracked_;
  prometheus::Family<prometheus::Gauge>& probe_attached_;
  prometheus::Family<prometheus::Gauge>& feature_available_;
  prometheus::Family<prometheus::Gauge>& capture_backend_;
  prometheus::Family<prometheus::Gauge>& workers_;
  prometheus::Counter& dropped_total_;
  prometheus::Gauge& workers_gauge_;
  prometheus::Histogram& reset_age_all_;
  prometheus::Histogram& reset_bytes_all_;
  prometheus::Histogram& keepalive_idle_all_;

  size_t max_locations_;
  LabelFold locations_{0};  // the busiest max_locations_ keep their label

  mutable std::mutex kernel_mu_;
  bool have_kernel_ = false;
  KernelMaps kernel_;
  // Kernel per-CPU counters mirrored as Prometheus counters (by how much they grew).
  struct KernelCounter {
    ngxw_counter index;
    prometheus::Counter* counter;
    uint64_t seen = 0;
  };
  mutable std::vector<KernelCounter> kernel_counters_;
  mutable ResetKeyCounts lost_seen_;
  prometheus::Counter& conn_evictions_;
  mutable uint64_t conn_evictions_seen_ = 0;
  mutable uint64_t lost_unkeyed_seen_ = 0;
};

}  // namespace ngxwatch
