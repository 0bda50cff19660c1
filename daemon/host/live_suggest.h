// `suggest` inside the daemon: the measurements sink runs on the event loop, the
// report is made on the API's worker thread for slow routes (nginx -t takes 100 ms and
// more per change, which neither the event loop nor top's snapshots may wait for).
//
// Hand-over: SharedMeasurements guards the live Measurements with a mutex held for
// one observation's update on the loop side and for one copy on the API side. A copy
// is small (per measured location: counters and a 48-bucket histogram; the labels come
// from the nginx configuration, so their number is bounded) and taken at most once per
// cache period, so the loop never waits long. The alternative, serializing to JSON on
// the loop on every request, costs the loop more and needs a round trip through the
// loop's timer to be served.
//
// LiveSuggest caches the last report for a few seconds: `top` refreshes twice a second
// and every snapshot asks for the rows' suggestions, which must not spawn nginx -t
// each time. The snapshot never waits for nginx -t either (top gives a snapshot
// 500 ms): its look-ups read the cache and, when it is stale, wake a refresher thread;
// only {"get":"suggest"} waits for a fresh report.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "advise/measurements.h"
#include "advise/suggest_report.h"
#include "host/verify.h"
#include "api/snapshot_extras.h"
#include "host/master_config.h"

namespace ngxwatch::advise {

class SharedMeasurements : public ObservationSink {
 public:
  void on_reset(const ResetObservation& r) override;
  void on_failure(const FailureObservation& f) override;
  void on_client_visible(const ClientStatusObservation& s) override;
  void on_retry_absorbed(const Place& place) override;
  void on_request(const RequestObservation& r) override;

  MeasurementsByNginx copy() const;

 private:
  mutable std::mutex mu_;
  MeasurementsByNginx by_nginx_;
};

// The report for the running masters: the configuration the measurements are about
// (most_measured), or {"error"} when no master's configuration is loaded. Without a
// single suggestion, nginx -t is not run at all: a healthy host spawns nothing.
// nginx -t runs with the chosen master's binary and prefix (`fallback` when unknown).
struct LiveReport {
  std::string error;  // why there is no report
  SuggestReport report;
};
LiveReport suggest_live(const MeasurementsByNginx& by_nginx, const ConfigSet& configs,
                        const VerifyOptions& fallback);

class LiveSuggest : public SnapshotExtras {
 public:
  using Compute = std::function<LiveReport()>;
  using Clock = std::function<uint64_t()>;  // monotonic milliseconds
  static constexpr uint64_t kDefaultTtlMs = 5000;

  LiveSuggest(Compute compute, Clock clock, uint64_t ttl_ms = kDefaultTtlMs);
  ~LiveSuggest() { stop(); }
  LiveSuggest(const LiveSuggest&) = delete;
  LiveSuggest& operator=(const LiveSuggest&) = delete;

  // Joins the refresher: call before what `compute` reads goes away. Idempotent.
  void stop();

  // The cached report, made anew (blocking) when older than the ttl. Callers of the
  // same period share one computation.
  std::shared_ptr<const LiveReport> report() const;
  // Never blocks on a computation: the cached report (null before the first), and a
  // refresh in the background when it is stale.
  std::shared_ptr<const LiveReport> latest() const;
  // The API's {"get":"suggest"} reply: the report as `suggest --json` prints it.
  nlohmann::json reply() const;

  // The first suggestion about the row's location (one with a verified diff first),
  // else one about its upstream group; evidence shortened for the snapshot.
  std::optional<SuggestionInfo> suggestion_for(const Place& place,
                                               const std::string& phase) const override;
  // The first one with a verified diff, else the first.
  std::optional<SuggestionInfo> top_suggestion() const override;

 private:
  void refresh_loop();
  bool fresh(uint64_t now) const;  // with mu_ held

  Compute compute_;
  Clock clock_;
  uint64_t ttl_ms_;
  mutable std::mutex compute_mu_;  // one computation at a time
  mutable std::mutex mu_;          // the fields below
  mutable std::condition_variable wake_;
  mutable std::shared_ptr<const LiveReport> cached_;
  mutable uint64_t made_ms_ = 0;
  mutable bool wanted_ = false;
  bool stopping_ = false;
  std::thread refresher_;
};

}  // namespace ngxwatch::advise
