#include "export/metrics.h"

#include <algorithm>

#include "correlate/reset_labels.h"

namespace ngxwatch {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Histogram;

namespace {

const Histogram::BucketBoundaries kAgeBuckets = {0.001, 0.01, 0.1, 0.5, 1,   2.5, 5,
                                                 10,    30,   60,  120, 300, 900, 3600};
const Histogram::BucketBoundaries kBytesBuckets = {
    0, 1024, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456, 1073741824};
const Histogram::BucketBoundaries kIdleBuckets = {0.01, 0.1, 0.5, 1,  2,  4,   5,
                                                  10,   15,  30,  60, 75, 120, 300};

}  // namespace

Metrics::Metrics(size_t max_locations)
    : registry_(std::make_shared<prometheus::Registry>()),
      resets_(BuildCounter()
                  .Name("ngxwatch_resets_total")
                  .Help("TCP resets (RST) that touched an nginx socket")
                  .Register(*registry_)),
      upstream_errors_(BuildCounter()
                           .Name("ngxwatch_upstream_errors_total")
                           .Help("What nginx met on upstream connections, as the kernel saw it")
                           .Register(*registry_)),
      failures_(BuildCounter()
                    .Name("ngxwatch_failures_total")
                    .Help("Failed request attempts by the classifier's cause")
                    .Register(*registry_)),
      duplicate_risk_(BuildCounter()
                          .Name("ngxwatch_duplicate_risk_total")
                          .Help("Failed POST/PUT/PATCH whose request had fully reached the "
                                "backend: it may have run although the client got an error")
                          .Register(*registry_)),
      client_visible_(BuildCounter()
                          .Name("ngxwatch_client_visible_errors_total")
                          .Help("502/504/499/413 answered to clients after a failure")
                          .Register(*registry_)),
      retries_absorbed_(BuildCounter()
                            .Name("ngxwatch_upstream_retries_absorbed_total")
                            .Help("Upstream failures nginx retried away; the client got an answer")
                            .Register(*registry_)),
      reset_age_(BuildHistogram()
                     .Name("ngxwatch_reset_connection_age_seconds")
                     .Help("Age of the connection when it was reset")
                     .Register(*registry_)),
      reset_bytes_(BuildHistogram()
                       .Name("ngxwatch_reset_request_bytes")
                       .Help("Request bytes transferred on the connection before the reset")
                       .Register(*registry_)),
      keepalive_idle_(BuildHistogram()
                          .Name("ngxwatch_keepalive_idle_before_reset_seconds")
                          .Help("Idle time of a reused keepalive connection before it failed")
                          .Register(*registry_)),
      dropped_(BuildCounter()
                   .Name("ngxwatch_events_dropped_total")
                   .Help("Kernel events lost because the ring buffer was full (totals stay exact)")
                   .Register(*registry_)),
      requests_seen_(BuildCounter()
                         .Name("ngxwatch_requests_seen_total")
                         .Help("Client requests nginx began reading, counted in kernel")
                         .Register(*registry_)),
      requests_unsampled_(BuildCounter()
                              .Name("ngxwatch_requests_unsampled_total")
                              .Help("Of those, requests above --sample-rate kept in the kernel "
                                    "(reported only if they failed)")
                              .Register(*registry_)),
      heads_lost_(BuildCounter()
                      .Name("ngxwatch_capture_heads_lost_total")
                      .Help("Kept heads of unsampled requests evicted before they were needed")
                      .Register(*registry_)),
      heads_flushed_(BuildCounter()
                         .Name("ngxwatch_capture_heads_flushed_total")
                         .Help("Kept heads of unsampled requests sent because the request "
                               "failed or may have")
                         .Register(*registry_)),
      map_evictions_(BuildCounter()
                         .Name("ngxwatch_kernel_map_evictions_total")
                         .Help("Entries a full kernel map evicted (conns: the LRU connection "
                               "table, mostly connections long closed) or could not take "
                               "(reset_totals, reset_lost: the reset is counted under "
                               "\"(unknown)\" labels instead)")
                         .Register(*registry_)),
      resets_untracked_(BuildCounter()
                            .Name("ngxwatch_resets_untracked_total")
                            .Help("Resets on nginx client connections the connection table "
                                  "had evicted: in ngxwatch_resets_total, location=\"(unknown)\"")
                            .Register(*registry_)),
      probe_attached_(BuildGauge()
                          .Name("ngxwatch_probe_attached")
                          .Help("1 when the BPF program on this tracepoint is attached")
                          .Register(*registry_)),
      feature_available_(BuildGauge()
                             .Name("ngxwatch_feature_available")
                             .Help("1 when this kernel runs the feature's BPF programs "
                                   "(request_capture, process_tracking, temp_files)")
                             .Register(*registry_)),
      capture_backend_(BuildGauge()
                           .Name("ngxwatch_capture_backend")
                           .Help("1 for the request-capture backend in use (fentry, kprobe, "
                                 "tracepoint); all 0: no capture")
                           .Register(*registry_)),
      workers_(BuildGauge()
                   .Name("ngxwatch_nginx_workers")
                   .Help("nginx worker processes currently serving (not shutting down)")
                   .Register(*registry_)),
      dropped_total_(dropped_.Add({})),
      workers_gauge_(workers_.Add({})),
      reset_age_all_(reset_age_.Add({}, kAgeBuckets)),
      reset_bytes_all_(reset_bytes_.Add({}, kBytesBuckets)),
      keepalive_idle_all_(keepalive_idle_.Add({}, kIdleBuckets)),
      max_locations_(max_locations),
      kernel_counters_{{NGXW_CTR_EVENTS_DROPPED, &dropped_total_},
                       {NGXW_CTR_REQUESTS, &requests_seen_.Add({})},
                       {NGXW_CTR_UNSAMPLED, &requests_unsampled_.Add({})},
                       {NGXW_CTR_HEADS_LOST, &heads_lost_.Add({})},
                       {NGXW_CTR_HEADS_FLUSHED, &heads_flushed_.Add({})},
                       {NGXW_CTR_RESETS_UNTRACKED, &resets_untracked_.Add({})},
                       {NGXW_CTR_TOTALS_FULL, &map_evictions_.Add({{"map", "reset_totals"}})},
                       {NGXW_CTR_LOST_FULL, &map_evictions_.Add({{"map", "reset_lost"}})}},
      conn_evictions_(map_evictions_.Add({{"map", "conns"}})) {}

std::string Metrics::location_label(const std::string& location) {
  locations_.set_max(max_locations_);  // set_max_locations may have changed it
  return locations_.label(location);
}

void Metrics::on_reset(const ResetObservation& r) {
  // No place at all: the connection's request was never seen (its events were dropped
  // by a full ring, or it predates the daemon and failed before its next request).
  // Exported as "(unknown)", like an event without its master's config, never as "".
  auto known = [](const std::string& v) { return v.empty() ? std::string("(unknown)") : v; };
  resets_
      .Add({{"side", r.side},
            {"origin", r.origin},
            {"upstream", r.place.upstream},
            {"peer", r.peer},
            {"server", known(r.place.server)},
            {"location", known(location_label(r.place.location))},
            {"phase", r.phase}})
      .Increment();
  reset_age_all_.Observe(r.connection_age_s);
  reset_bytes_all_.Observe(r.request_bytes);
}

void Metrics::on_failure(const FailureObservation& f) {
  std::string location = location_label(f.place.location);
  // Observed per failed reuse, whether the upstream's close was an RST or a FIN.
  if (f.keepalive_idle_s) keepalive_idle_all_.Observe(*f.keepalive_idle_s);
  failures_
      .Add({{"upstream", f.place.upstream},
            {"server", f.place.server},
            {"location", location},
            {"cause", f.cause}})
      .Increment();
  if (f.duplicate_risk) {
    duplicate_risk_
        .Add({{"upstream", f.place.upstream},
              {"server", f.place.server},
              {"location", location},
              {"cause", f.cause}})
        .Increment();
  }
  if (!f.error.empty()) {
    upstream_errors_
        .Add({{"upstream", f.place.upstream},
              {"peer", f.peer},
              {"server", f.place.server},
              {"location", location},
              {"phase", f.phase},
              {"error", f.error}})
        .Increment();
  }
}

void Metrics::on_client_visible(const ClientStatusObservation& s) {
  client_visible_
      .Add({{"server", s.place.server},
            {"location", location_label(s.place.location)},
            {"status", std::to_string(s.status)}})
      .Increment();
}

void Metrics::on_retry_absorbed(const Place& place) {
  retries_absorbed_
      .Add({{"upstream", place.upstream}, {"location", location_label(place.location)}})
      .Increment();
}

void Metrics::set_probes(const std::vector<ProbeStatus>& probes) {
  for (const auto& p : probes) probe_attached_.Add({{"probe", p.name}}).Set(p.attached ? 1 : 0);
}

void Metrics::set_features(const std::vector<FeatureStatus>& features, const std::string& backend) {
  for (const auto& f : features)
    feature_available_.Add({{"feature", f.name}}).Set(f.available ? 1 : 0);
  for (const std::string& b : capture_backend_names())
    capture_backend_.Add({{"backend", b}}).Set(b == backend ? 1 : 0);
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
  for (KernelCounter& k : kernel_counters_) {
    uint64_t now = kernel_.counter(k.index);
    if (now > k.seen) k.counter->Increment(static_cast<double>(now - k.seen));
    k.seen = std::max(k.seen, now);
  }
  uint64_t evicted = kernel_.conn_evictions();
  if (evicted > conn_evictions_seen_) {
    conn_evictions_.Increment(static_cast<double>(evicted - conn_evictions_seen_));
    conn_evictions_seen_ = evicted;
  }
  // Resets whose events were dropped (or whose connection the table had evicted) are
  // still counted, under the labels the kernel knows; what is lost is their
  // attribution, not the total.
  auto add_unattributed = [this](const ResetLabels& l, uint64_t n) {
    const std::string unknown = "(unknown)";
    resets_
        .Add({{"side", l.side},
              {"origin", l.origin},
              {"upstream", unknown},
              {"peer", l.peer},
              {"server", unknown},
              {"location", unknown},
              {"phase", unknown}})
        .Increment(static_cast<double>(n));
  };
  for (const auto& [key, lost] : kernel_.reset_lost()) {
    uint64_t& seen = lost_seen_[key];
    if (lost <= seen) continue;
    add_unattributed(reset_labels(key), lost - seen);
    seen = lost;
  }
  // Lost with a key reset_lost had no room for: not even side and origin are left.
  uint64_t unkeyed = kernel_.counter(NGXW_CTR_LOST_FULL);
  if (unkeyed > lost_unkeyed_seen_) {
    add_unattributed({"(unknown)", "(unknown)", "(unknown)"}, unkeyed - lost_unkeyed_seen_);
    lost_unkeyed_seen_ = unkeyed;
  }
}

std::vector<prometheus::MetricFamily> Metrics::Collect() const {
  sync_kernel();
  return registry_->Collect();
}

}  // namespace ngxwatch
