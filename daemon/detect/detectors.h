// The detectors behind one door: the event loop (and `analyze`) feeds observations and
// raw events in, ticks them with event time, and reads their state and findings.
#pragma once

#include <vector>

#include "common/monotonic_clock.h"
#include "correlate/observations.h"
#include "detect/finding.h"
#include "detect/retry_storm.h"
#include "detect/temp_dir.h"
#include "detect/worker_exhaustion.h"
#include "source/event.h"

namespace ngxwatch {

class Detectors : public ObservationSink {
 public:
  // failures: where detector-made failures (worker_connections_exhausted,
  // temp_file_error) go; must not be a sink that feeds back into this one.
  // live = false (analyze of a recorded trace): no statvfs, this host's filesystems
  // say nothing about the traced one.
  explicit Detectors(ObservationSink* failures, bool live = true)
      : workers_(failures),
        temp_(
            failures, {}, live ? TempDirDetector::StatFs{} : [](const std::string&) {
              return std::optional<FsSpace>();
            }) {}

  void set_configs(const ConfigLookup* configs) {
    workers_.set_configs(configs);
    temp_.set_configs(configs);
  }
  void set_place_of(TempDirDetector::PlaceOf f) { temp_.set_place_of(std::move(f)); }
  void on_event(const Event& e) {
    workers_.on_event(e);
    temp_.on_event(e);
  }
  void tick(uint64_t now_ns) {
    storm_.tick(now_ns);
    workers_.tick(now_ns);
    temp_.tick(now_ns);
  }

  void on_reset(const ResetObservation&) override {}
  void on_failure(const FailureObservation&) override {}
  void on_client_visible(const ClientStatusObservation&) override {}
  void on_retry_absorbed(const Place&) override {}
  void on_request(const RequestObservation& r) override { storm_.on_request(r); }

  const RetryStormDetector& storm() const { return storm_; }
  const WorkerExhaustionDetector& workers() const { return workers_; }
  const TempDirDetector& temp() const { return temp_; }
  std::vector<Finding> findings() const {
    std::vector<Finding> out = storm_.findings();
    for (auto& f : workers_.findings()) out.push_back(f);
    for (auto& f : temp_.findings()) out.push_back(f);
    return out;
  }

 private:
  RetryStormDetector storm_;
  WorkerExhaustionDetector workers_;
  TempDirDetector temp_;
};

}  // namespace ngxwatch
