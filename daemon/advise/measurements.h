// What `suggest` needs from the observation stream, accumulated per location and per
// upstream group: only numbers (counts, extremes, a latency histogram), never request
// bytes. The same sink runs in the daemon and on a recorded trace; it round-trips
// through JSON so the daemon can hand it over its API and tests can feed it.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include <nlohmann/json_fwd.hpp>

#include "correlate/observations.h"

namespace ngxwatch::advise {

// Successful request durations: log-spaced buckets, enough for a p99 within ~20%.
struct DurationHistogram {
  static constexpr size_t kBuckets = 48;  // 1 ms .. ~10 min, ratio 1.33
  static double upper_bound(size_t bucket);
  std::array<uint64_t, kBuckets> counts{};
  uint64_t total = 0;
  double max_s = 0;

  void add(double seconds);
  // Upper bound of the bucket holding quantile q (0 < q <= 1), capped at max_s.
  double quantile(double q) const;
};

struct Extremes {
  uint64_t count = 0;
  double min = 0;
  double max = 0;
  void add(double v);
};

// A retry storm the detector found at a location (the worst one when several).
struct StormMeasurements {
  uint64_t count = 0;  // storms seen
  uint64_t onset_ns = 0;
  double peak_rate = 0;      // req/s at the location during the storm
  double baseline_rate = 0;  // req/s before it
  double clients = 0;        // distinct clients retrying
  double failing_ratio = 0;
  bool non_idempotent = false;
};

struct LocationMeasurements {
  std::string upstream;  // the group requests here went to (last seen)
  uint64_t requests = 0;
  uint64_t status_5xx = 0;
  uint64_t first_ts_ns = 0, last_ts_ns = 0;
  DurationHistogram ok_durations;  // 2xx/3xx answers
  uint64_t max_body = 0;           // largest Content-Length announced
  uint64_t max_body_ok = 0;        // ... of a request that got a 2xx/3xx
  uint64_t read_timeouts = 0;
  uint64_t send_timeouts = 0;
  uint64_t keepalive_races = 0;
  Extremes body_too_large;        // Content-Length of each 413 (0 when chunked)
  Extremes reset_sending_body;    // Content-Length of requests the upstream cut mid-body
  uint64_t failed_after_cut = 0;  // ... that the client got a 5xx for
  // Normal per-client load, to size a rate limit: distinct clients that got a good
  // answer, and the most good answers one client got within one second.
  uint64_t ok_clients = 0;
  uint64_t client_peak_per_s = 0;
  // Request bodies: the most body bytes in requests at once (what spooling needs room
  // for), client-body bytes nginx wrote to temp files, and its failed writes.
  uint64_t peak_concurrent_body = 0;
  uint64_t spooled_bytes = 0;
  uint64_t temp_file_errors = 0;
  StormMeasurements storm;
  // Failed POST/PUT/PATCH whose request had fully reached the backend (may have run
  // twice), and their causes ("upstream_reset_before_header, read_timeout").
  uint64_t duplicate_risk = 0;
  std::string duplicate_risk_causes;
};

// Connections of the busiest nginx worker against worker_connections.
struct WorkerMeasurements {
  double peak_ratio = 0;
  uint64_t peak_open = 0;
  uint64_t worker_connections = 0;  // the limit the peak was measured against
  uint64_t refused = 0;             // accepted connections nginx closed unread
};

// A temp path nginx spools to: its failed writes and the room left (-1: unknown, as
// on a replayed trace, where this host's filesystems say nothing).
struct TempPathMeasurements {
  std::string kind;  // client_body | proxy
  uint64_t errors = 0;
  int64_t free_bytes = -1;
  int64_t size_bytes = -1;
};

struct UpstreamMeasurements {
  uint64_t requests = 0;
  Extremes keepalive_race_idle_s;              // idle time of pooled connections that met a close
  uint64_t keepalive_race_clients_failed = 0;  // races the client saw (502), not retried
};

}  // namespace ngxwatch::advise

namespace ngxwatch {
class Detectors;
}

namespace ngxwatch::advise {

class Measurements : public ObservationSink {
 public:
  void on_reset(const ResetObservation&) override {}
  void on_failure(const FailureObservation& f) override;
  void on_client_visible(const ClientStatusObservation&) override {}
  void on_retry_absorbed(const Place&) override {}
  void on_request(const RequestObservation& r) override;

  // (server, location) labels.
  using LocationKey = std::pair<std::string, std::string>;
  const std::map<LocationKey, LocationMeasurements>& locations() const { return locations_; }
  const std::map<std::string, UpstreamMeasurements>& upstreams() const { return upstreams_; }
  LocationMeasurements& location(const std::string& server, const std::string& location) {
    return locations_[{server, location}];
  }
  UpstreamMeasurements& upstream(const std::string& name) { return upstreams_[name]; }
  const WorkerMeasurements& workers() const { return workers_; }
  WorkerMeasurements& workers() { return workers_; }
  const std::map<std::string, TempPathMeasurements>& temp_paths() const { return temp_paths_; }
  TempPathMeasurements& temp_path(const std::string& path) { return temp_paths_[path]; }

  // The detectors' verdicts and state after the same events (storms, worker
  // exhaustion, spooled bytes and temp paths).
  void add_detectors(const Detectors& detectors);

  nlohmann::json to_json() const;
  // Throws nlohmann::json::exception on a document of the wrong shape.
  static Measurements from_json(const nlohmann::json& j);

 private:
  std::map<LocationKey, LocationMeasurements> locations_;
  std::map<std::string, UpstreamMeasurements> upstreams_;
  WorkerMeasurements workers_;
  std::map<std::string, TempPathMeasurements> temp_paths_;
  // Cut-mid-body failures whose request has not finished yet (not serialized).
  std::map<LocationKey, uint64_t> cut_mid_body_pending_;
  // Working state behind the per-client and body numbers (not serialized, bounded).
  struct ClientSecond {
    uint64_t second = 0;
    uint64_t n = 0;
  };
  struct BodyInFlight {
    uint64_t start = 0, end = 0, bytes = 0, concurrent = 0;
  };
  std::map<LocationKey, std::unordered_map<std::string, ClientSecond>> clients_;
  std::map<LocationKey, std::deque<BodyInFlight>> bodies_;
  void count_client(const LocationKey& key, LocationMeasurements& loc, const RequestObservation& r);
  void count_body(const LocationKey& key, LocationMeasurements& loc, const RequestObservation& r);
};

// Measurements per nginx master identity (Place::nginx): two instances on one host
// with the same server and location names are judged apart.
using MeasurementsByNginx = std::map<std::string, Measurements>;

}  // namespace ngxwatch::advise
