#include "gate/gate_pipeline.h"

#include <algorithm>

#include "source/reset_reasons.h"

namespace ngxwatch::gate {

GatePipeline::GatePipeline(bool live)
    : detectors_(&detected_, live),
      correlator_(nullptr, &sinks_, ResetReasons::load()),
      pending_([this](const Event& e) {
        ++events_;
        correlator_.on_event(e);
        detectors_.on_event(e);
      }) {
  detectors_.set_place_of([this](uint64_t sock) { return correlator_.place_of(sock); });
}

void GatePipeline::set_configs(std::shared_ptr<const ConfigSet> configs) {
  configs_.set(std::move(configs));
  correlator_.set_configs(&configs_);
  detectors_.set_configs(&configs_);
  pending_.set_source(&configs_);
}

void GatePipeline::tick(uint64_t now_ns) {
  pending_.tick(now_ns);
  detectors_.tick(now_ns);
  track_temp_dirs();
}

// The detector keeps the current free space and a short window; the gate keeps the
// extremes of the whole run.
void GatePipeline::track_temp_dirs() {
  for (const auto& [path, p] : detectors_.temp().paths()) {
    TempDirReport& t = temp_[path];
    t.path = path;
    t.kind = p.kind;
    t.write_errors = p.errors;
    if (p.space) {
      t.size_bytes = p.space->size_bytes;
      t.free_bytes_now = p.space->free_bytes;
      uint64_t used =
          p.space->size_bytes > p.space->free_bytes ? p.space->size_bytes - p.space->free_bytes : 0;
      t.high_water_used_bytes = std::max(t.high_water_used_bytes, used);
    }
    if (p.eta_s && (!t.min_eta_s || *p.eta_s < *t.min_eta_s)) t.min_eta_s = p.eta_s;
  }
}

GateReport GatePipeline::report() const {
  GateReport r;
  r.source = "probes";
  r.events = events_;
  r.requests = requests_.total();
  for (const auto& [key, n] : requests_.counts()) r.location(key.first, key.second).requests = n;
  for (const auto& [key, row] : summary_.resets()) {
    const auto& [side, origin, upstream, peer, server, location, phase] = key;
    r.location(server, location).resets += row.count;
  }
  for (const auto& [key, row] : summary_.failures()) {
    const auto& [upstream, server, location, cause] = key;
    r.location(server, location)
        .failures.push_back(
            {upstream, cause, row.phase, row.count, row.duplicate_risk, row.evidence, row.request});
  }
  for (const auto& [key, n] : summary_.client_visible())
    r.location(std::get<0>(key), std::get<1>(key)).client_errors[std::get<2>(key)] += n;
  // A location with failures but no finished request seen (e.g. every one aborted)
  // still shows 0 requests, not "unknown".
  for (auto& l : r.locations)
    if (!l.requests) l.requests = 0;
  r.findings = detectors_.findings();
  for (const auto& [path, t] : temp_) r.temp_dirs.push_back(t);
  return r;
}

advise::Measurements GatePipeline::measurements() const {
  advise::Measurements m = measurements_;
  m.add_detectors(detectors_);
  return m;
}

}  // namespace ngxwatch::gate
