// What `suggest` needs from the observation stream, accumulated per location and per
// upstream group: only numbers (counts, extremes, a latency histogram), never request
// bytes. The same sink runs in the daemon and on a recorded trace; it round-trips
// through JSON so the daemon can hand it over its API and tests can feed it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
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
};

struct UpstreamMeasurements {
  uint64_t requests = 0;
  Extremes keepalive_race_idle_s;              // idle time of pooled connections that met a close
  uint64_t keepalive_race_clients_failed = 0;  // races the client saw (502), not retried
};

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

  nlohmann::json to_json() const;
  // Throws nlohmann::json::exception on a document of the wrong shape.
  static Measurements from_json(const nlohmann::json& j);

 private:
  std::map<LocationKey, LocationMeasurements> locations_;
  std::map<std::string, UpstreamMeasurements> upstreams_;
  // Cut-mid-body failures whose request has not finished yet (not serialized).
  std::map<LocationKey, uint64_t> cut_mid_body_pending_;
};

}  // namespace ngxwatch::advise
