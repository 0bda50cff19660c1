#include "advise/measurements.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace ngxwatch::advise {

namespace {

constexpr double kFirstBucketS = 0.001;
constexpr double kBucketRatio = 1.33;

bool good_status(int status) { return status >= 200 && status < 400; }

}  // namespace

double DurationHistogram::upper_bound(size_t bucket) {
  return kFirstBucketS * std::pow(kBucketRatio, static_cast<double>(bucket));
}

void DurationHistogram::add(double seconds) {
  size_t b = 0;
  while (b + 1 < kBuckets && seconds > upper_bound(b)) ++b;
  ++counts[b];
  ++total;
  max_s = std::max(max_s, seconds);
}

double DurationHistogram::quantile(double q) const {
  if (total == 0) return 0;
  auto want = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
  uint64_t seen = 0;
  for (size_t b = 0; b < kBuckets; ++b) {
    seen += counts[b];
    if (seen >= want) return std::min(upper_bound(b), max_s);
  }
  return max_s;
}

void Extremes::add(double v) {
  min = count == 0 ? v : std::min(min, v);
  max = count == 0 ? v : std::max(max, v);
  ++count;
}

void Measurements::on_failure(const FailureObservation& f) {
  LocationMeasurements& loc = location(f.place.server, f.place.location);
  if (f.cause == "read_timeout") {
    ++loc.read_timeouts;
  } else if (f.cause == "send_timeout") {
    ++loc.send_timeouts;
  } else if (f.cause == "keepalive_race") {
    ++loc.keepalive_races;
    UpstreamMeasurements& up = upstream(f.place.upstream);
    if (f.keepalive_idle_s) up.keepalive_race_idle_s.add(*f.keepalive_idle_s);
    // nginx retries an idempotent request on a new connection: only the others fail.
    if (!f.idempotent) ++up.keepalive_race_clients_failed;
  }
  // Sized from the request itself (on_request carries the announced body length),
  // which is reported when the client gets its answer, after its failures.
  if (f.cause == "upstream_reset_sending_body")
    ++cut_mid_body_pending_[{f.place.server, f.place.location}];
}

void Measurements::on_request(const RequestObservation& r) {
  LocationMeasurements& loc = location(r.place.server, r.place.location);
  if (!r.place.upstream.empty()) {
    loc.upstream = r.place.upstream;
    ++upstream(r.place.upstream).requests;
  }
  ++loc.requests;
  if (loc.first_ts_ns == 0 || r.ts_ns < loc.first_ts_ns) loc.first_ts_ns = r.ts_ns;
  loc.last_ts_ns = std::max(loc.last_ts_ns, r.ts_ns);
  uint64_t body = r.content_length.value_or(0);
  loc.max_body = std::max(loc.max_body, body);
  if (r.status >= 500) ++loc.status_5xx;
  if (good_status(r.status)) {
    loc.ok_durations.add(r.duration_s);
    loc.max_body_ok = std::max(loc.max_body_ok, body);
  }
  if (r.status == 413) loc.body_too_large.add(static_cast<double>(body));
  // A request the upstream cut while nginx was still sending its body: what the
  // backend refused to take.
  auto pending = cut_mid_body_pending_.find({r.place.server, r.place.location});
  if (r.upstream_failures > 0 && pending != cut_mid_body_pending_.end() && pending->second > 0) {
    --pending->second;
    loc.reset_sending_body.add(static_cast<double>(body));
    if (r.status >= 500) ++loc.failed_after_cut;
  }
}

// ---- JSON (field names are the API's: keep them stable) ----

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Extremes, count, min, max)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DurationHistogram, counts, total, max_s)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(LocationMeasurements, upstream, requests, status_5xx,
                                   first_ts_ns, last_ts_ns, ok_durations, max_body, max_body_ok,
                                   read_timeouts, send_timeouts, keepalive_races, body_too_large,
                                   reset_sending_body, failed_after_cut)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(UpstreamMeasurements, requests, keepalive_race_idle_s,
                                   keepalive_race_clients_failed)

nlohmann::json Measurements::to_json() const {
  nlohmann::json j = {{"locations", nlohmann::json::array()},
                      {"upstreams", nlohmann::json::array()}};
  for (const auto& [key, m] : locations_) {
    nlohmann::json l = m;
    l["server"] = key.first;
    l["location"] = key.second;
    j["locations"].push_back(std::move(l));
  }
  for (const auto& [name, m] : upstreams_) {
    nlohmann::json u = m;
    u["name"] = name;
    j["upstreams"].push_back(std::move(u));
  }
  return j;
}

Measurements Measurements::from_json(const nlohmann::json& j) {
  Measurements m;
  for (const nlohmann::json& l : j.at("locations"))
    m.location(l.at("server").get<std::string>(), l.at("location").get<std::string>()) =
        l.get<LocationMeasurements>();
  for (const nlohmann::json& u : j.at("upstreams"))
    m.upstream(u.at("name").get<std::string>()) = u.get<UpstreamMeasurements>();
  return m;
}

}  // namespace ngxwatch::advise
