#include "export/detect_metrics.h"

#include <limits>

namespace ngxwatch {

using prometheus::BuildCounter;
using prometheus::BuildGauge;

DetectMetrics::DetectMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      storm_active_(BuildGauge()
                        .Name("ngxwatch_retry_storm_active")
                        .Help("1 while clients retry failing requests at this location in a storm")
                        .Register(*registry_)),
      storm_requests_(BuildCounter()
                          .Name("ngxwatch_retry_storm_requests_total")
                          .Help("Retries of failed requests counted while a storm was on")
                          .Register(*registry_)),
      spooled_(BuildCounter()
                   .Name("ngxwatch_temp_spooled_bytes_total")
                   .Help("Bytes nginx wrote to temp files (client bodies, proxied responses)")
                   .Register(*registry_)),
      free_(BuildGauge()
                .Name("ngxwatch_temp_dir_free_bytes")
                .Help("Free bytes (for unprivileged writers) on a temp path's filesystem")
                .Register(*registry_)),
      eta_(BuildGauge()
               .Name("ngxwatch_temp_dir_full_eta_seconds")
               .Help("Projected seconds until a temp path's filesystem is full (+Inf: not filling)")
               .Register(*registry_)),
      ratio_(BuildGauge()
                 .Name("ngxwatch_worker_connections_used_ratio")
                 .Help("Open connections of the busiest nginx worker / worker_connections")
                 .Register(*registry_)),
      findings_(BuildGauge()
                    .Name("ngxwatch_findings")
                    .Help("Active detector findings by kind and severity")
                    .Register(*registry_)) {}

void DetectMetrics::update(const Detectors& d) {
  std::lock_guard<std::mutex> lk(mu_);
  auto add = [this](prometheus::Counter& c, std::tuple<std::string, std::string, std::string> key,
                    uint64_t total) {
    uint64_t& seen = exported_[key];
    if (total > seen) c.Increment(static_cast<double>(total - seen));
    seen = total;
  };
  for (const auto& [key, st] : d.storm().locations()) {
    prometheus::Labels l{{"server", key.first}, {"location", key.second}};
    storm_active_.Add(l).Set(st.active ? 1 : 0);
    add(storm_requests_.Add(l), {"storm\n" + key.first, key.second, ""}, st.storm_requests);
  }
  for (const auto& [key, bytes] : d.temp().spooled()) {
    const auto& [server, location, kind] = key;
    add(spooled_.Add({{"server", server}, {"location", location}, {"kind", kind}}),
        {"spool\n" + server, location, kind}, bytes);
  }
  for (const auto& [path, p] : d.temp().paths()) {
    if (!p.space) continue;
    free_.Add({{"path", path}}).Set(static_cast<double>(p.space->free_bytes));
    eta_.Add({{"path", path}}).Set(p.eta_s ? *p.eta_s : std::numeric_limits<double>::infinity());
  }
  ratio_.Add({}).Set(d.workers().busiest_ratio());
  std::map<std::pair<std::string, std::string>, int> active;
  for (const char* kind : {"retry_storm", "temp_dir_fill", "worker_exhaustion"})
    for (const char* sev : {"warning", "critical"}) active[{kind, sev}] = 0;
  for (const auto& f : d.findings())
    if (f.active) ++active[{f.kind, f.severity}];
  for (const auto& [k, n] : active)
    findings_.Add({{"kind", k.first}, {"severity", k.second}}).Set(n);
}

std::vector<prometheus::MetricFamily> DetectMetrics::Collect() const {
  std::lock_guard<std::mutex> lk(mu_);
  return registry_->Collect();
}

}  // namespace ngxwatch
