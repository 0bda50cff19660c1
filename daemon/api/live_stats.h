// The daemon's live view for `ngxwatch top`: an ObservationSink that keeps, per
// (upstream, server, location, phase), rolling counts over 1 s / 10 s / 60 s, totals,
// a 60-point per-second history and a bounded ring of the latest events, plus the
// header rates. Fed on the event loop, read by the API thread: one mutex, held only
// for counter updates and for copying the snapshot out.
//
// Snapshot (JSON, `{"get":"snapshot"}` on the API socket), version 1:
//   uptime_s, dropped_events,
//   header: {resets_per_s, upstream_errors_per_s, client_errors_per_s: {"1s","10s","60s"},
//            totals: {resets, upstream_errors, client_errors, retries_absorbed,
//                     duplicate_risk},
//            active_storms}
//   rows: [{upstream, server, location, phase,
//           rates: {"1s","10s","60s"}  (events = resets + failures, per second),
//           totals: {events, resets, failures, duplicate_risk, causes: {cause: n}},
//           history: [60 counts, oldest first],
//           last_age_s, latest: [{kind, age_s, request, phase, cause, evidence, peer,
//                                 side, origin, reason, request_bytes,
//                                 connection_age_s, keepalive_idle_s, duplicate_risk}]
//                                 (newest first),
//           suggestion: null | {title, evidence, diff}}]   sorted by 10 s rate
//   storms: [], temp_dirs: [], suggestion: null           (see snapshot_extras.h)
//   findings: [detector findings, export/finding_json.h: the shape of analyze --json]
//   config: which nginx master's configuration the evidence is judged against ("" none)
//   client_visible: [{server, location, status, count}], requests: [{server, location,
//   count}] (finished client requests, weighted by sampling): totals since start, so
//   `gate --api-socket` can take the difference of two snapshots.
// Request lines are redacted before they are stored; no client address is kept.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "api/rolling_counter.h"
#include "api/snapshot_extras.h"
#include "correlate/observations.h"
#include "detect/finding.h"

namespace ngxwatch {

struct LiveEvent {
  std::string kind;  // reset | failure
  uint64_t at_ms = 0;
  std::string request;  // redacted request line
  std::string phase;
  std::string cause;     // failures: the classifier's cause
  std::string evidence;  // failures: the classifier's evidence
  std::string peer;
  std::string side;    // resets: upstream | client
  std::string origin;  // resets: peer | nginx
  std::string reason;  // resets: kernel reset reason
  double request_bytes = 0;
  double connection_age_s = 0;
  std::optional<double> keepalive_idle_s;
  bool duplicate_risk = false;  // failures: may have run on the backend (POST/PUT/PATCH)
};

class LiveStats : public ObservationSink {
 public:
  using Clock = std::function<uint64_t()>;  // monotonic milliseconds
  static uint64_t steady_ms();

  explicit LiveStats(Clock clock = steady_ms, size_t latest_per_row = 8, size_t max_rows = 1000);

  void on_reset(const ResetObservation& r) override;
  void on_failure(const FailureObservation& f) override;
  void on_client_visible(const ClientStatusObservation& s) override;
  void on_retry_absorbed(const Place& place) override;
  void on_request(const RequestObservation& r) override;

  // Kernel counter of ring-buffer records lost (read at snapshot time, any thread).
  void set_dropped_source(std::function<uint64_t()> source);
  // What the kernel gave (capture backend, features it could not run): shown by top.
  void set_kernel(nlohmann::json kernel);
  // Storms, temp dirs, suggestions: filled by other stages when they exist.
  void add_extras(std::shared_ptr<const SnapshotExtras> extras);
  // Which master's config the rows are attributed with (read at snapshot time).
  void set_config_source(std::function<std::string()> source);
  // The detectors' findings, copied in by the event loop.
  void set_findings(std::vector<Finding> findings);

  nlohmann::json snapshot() const;

 private:
  using Key = std::tuple<std::string, std::string, std::string, std::string>;
  struct Row {
    RollingCounter events, resets, failures;
    uint64_t duplicate_risk = 0;
    std::map<std::string, uint64_t> causes;  // failures by cause
    std::deque<LiveEvent> latest;            // newest first
    uint64_t last_ms = 0;
  };
  Row& row(const Place& place, const std::string& phase);
  void remember(Row& r, LiveEvent e);

  Clock clock_;
  size_t latest_per_row_;
  size_t max_rows_;
  uint64_t started_ms_;
  mutable std::mutex mu_;
  std::map<Key, Row> rows_;
  RollingCounter resets_, upstream_errors_, client_errors_, retries_absorbed_;
  uint64_t duplicate_risk_ = 0;
  // Keyed by config names (bounded like the rows): (server, location[, status]).
  std::map<std::tuple<std::string, std::string, int>, uint64_t> visible_;
  std::map<std::pair<std::string, std::string>, uint64_t> requests_;
  std::function<uint64_t()> dropped_;
  nlohmann::json kernel_ = nlohmann::json::object();
  std::function<std::string()> config_;
  std::vector<std::shared_ptr<const SnapshotExtras>> extras_;
  std::vector<Finding> findings_;
};

}  // namespace ngxwatch
