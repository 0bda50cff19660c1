// The in-process pipeline of `ngxwatch gate`: the live daemon's stages (pending
// events, correlator, detectors) over the kernel's events, with analyze's Summary and
// suggest's Measurements as sinks, plus per-location request counts and temp-dir
// high-water marks. No second classifier: the verdict is read off the same sinks that
// `analyze`, `top` and `suggest` use.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "advise/measurements.h"
#include "correlate/correlator.h"
#include "correlate/pending_events.h"
#include "detect/detectors.h"
#include "correlate/tee_sink.h"
#include "export/summary.h"
#include "gate/gate_report.h"
#include "host/master_config.h"
#include "host/worker_configs.h"
#include "source/event.h"

namespace ngxwatch::gate {

// Finished client requests per (server, location), weighted by the kernel's sampling.
class RequestCounts : public ObservationSink {
 public:
  void on_reset(const ResetObservation&) override {}
  void on_failure(const FailureObservation&) override {}
  void on_client_visible(const ClientStatusObservation&) override {}
  void on_retry_absorbed(const Place&) override {}
  void on_request(const RequestObservation& r) override {
    counts_[{r.place.server, r.place.location}] += r.weight;
    total_ += r.weight;
  }
  const std::map<std::pair<std::string, std::string>, uint64_t>& counts() const { return counts_; }
  uint64_t total() const { return total_; }

 private:
  std::map<std::pair<std::string, std::string>, uint64_t> counts_;
  uint64_t total_ = 0;
};

class GatePipeline {
 public:
  // live: the temp-dir detector measures this host's filesystems (statvfs).
  explicit GatePipeline(bool live = true);

  // nginx started or reloaded: attribute with these from now on (kept alive by caller).
  void set_configs(std::shared_ptr<const ConfigSet> configs);
  void on_event(const Event& e, uint64_t now_ns) {
    configs_.learn(e);
    pending_.on_event(e, now_ns);
  }
  void tick(uint64_t now_ns);

  // The verdict's measured part (load fields, suggestions and notes are the caller's).
  GateReport report() const;
  // What suggest advises on: the measurements with the detectors' state.
  advise::Measurements measurements() const;

 private:
  void track_temp_dirs();

  Summary summary_;
  advise::Measurements measurements_;
  RequestCounts requests_;
  TeeSink detected_{&summary_, &measurements_};  // failures the detectors find
  Detectors detectors_;
  TeeSink sinks_{&summary_, &detectors_, &measurements_, &requests_};
  Correlator correlator_;
  WorkerConfigs configs_;
  PendingEvents pending_;
  uint64_t events_ = 0;
  std::map<std::string, TempDirReport> temp_;
};

}  // namespace ngxwatch::gate
