#include "advise/measurements.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "detect/detectors.h"

namespace ngxwatch::advise {

namespace {

constexpr double kFirstBucketS = 0.001;
constexpr double kBucketRatio = 1.33;

bool good_status(int status) { return status >= 200 && status < 400; }

// Bounds of the working state: clients per location, bodies remembered per location.
constexpr size_t kMaxClients = 10000;
constexpr size_t kMaxBodies = 4096;

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
  // The group a failure went to names the location's upstream until a finished
  // request does (its answer may come after a report is made).
  if (loc.upstream.empty()) loc.upstream = f.place.upstream;
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
  // Only request bodies: a proxied response spooled to disk is another fix.
  if (f.cause == "temp_file_error" && f.phase == "client_body") ++loc.temp_file_errors;
  if (f.cause == "upstream_reset_sending_body")
    ++cut_mid_body_pending_[{f.place.server, f.place.location}];
  if (f.duplicate_risk) {
    ++loc.duplicate_risk;
    if (loc.duplicate_risk_causes.find(f.cause) == std::string::npos)
      loc.duplicate_risk_causes += (loc.duplicate_risk_causes.empty() ? "" : ", ") + f.cause;
  }
}

void Measurements::on_request(const RequestObservation& r) {
  LocationMeasurements& loc = location(r.place.server, r.place.location);
  if (!r.place.upstream.empty()) {
    loc.upstream = r.place.upstream;
    upstream(r.place.upstream).requests += r.weight;
  }
  loc.requests += r.weight;  // totals count what sampling skipped; failures are reported one by one
  if (loc.first_ts_ns == 0 || r.ts_ns < loc.first_ts_ns) loc.first_ts_ns = r.ts_ns;
  loc.last_ts_ns = std::max(loc.last_ts_ns, r.ts_ns);
  uint64_t body = r.content_length.value_or(0);
  loc.max_body = std::max(loc.max_body, body);
  if (r.status >= 500) ++loc.status_5xx;
  LocationKey key{r.place.server, r.place.location};
  count_body(key, loc, r);
  if (good_status(r.status)) {
    count_client(key, loc, r);
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

void Measurements::count_client(const LocationKey& key, LocationMeasurements& loc,
                                const RequestObservation& r) {
  auto& clients = clients_[key];
  auto it = clients.find(r.client);
  if (it == clients.end()) {
    if (clients.size() >= kMaxClients) return;  // bound: later clients are not counted
    it = clients.emplace(r.client, ClientSecond{}).first;
    ++loc.ok_clients;
  }
  uint64_t second = r.ts_ns / 1000000000ull;
  if (it->second.second != second) it->second = {second, 0};
  // A sampled request stands for `weight` requests (kernel sampling): counted as that
  // many from its client, the estimate of the client's rate stays unbiased.
  it->second.n += r.weight;
  loc.client_peak_per_s = std::max(loc.client_peak_per_s, it->second.n);
}

// Bodies in flight at once: each request's interval [start, end] with its body; the
// total is highest at some request's start, so each start keeps the sum of the bodies
// covering it, updated as later-reported requests turn out to cover it too.
void Measurements::count_body(const LocationKey& key, LocationMeasurements& loc,
                              const RequestObservation& r) {
  uint64_t bytes = r.content_length.value_or(0);
  if (bytes == 0) return;
  auto& bodies = bodies_[key];
  BodyInFlight b{r.ts_ns, r.ts_ns + static_cast<uint64_t>(r.duration_s * 1e9), bytes, bytes};
  for (BodyInFlight& o : bodies) {
    if (o.start <= b.start && b.start <= o.end) b.concurrent += o.bytes;
    if (b.start < o.start && o.start <= b.end) {
      o.concurrent += b.bytes;
      loc.peak_concurrent_body = std::max(loc.peak_concurrent_body, o.concurrent);
    }
  }
  loc.peak_concurrent_body = std::max(loc.peak_concurrent_body, b.concurrent);
  bodies.push_back(b);
  if (bodies.size() > kMaxBodies) bodies.pop_front();
}

void Measurements::add_detectors(const Detectors& d) {
  for (const Finding& f : d.findings()) {
    auto num = [&f](const char* name) {
      auto it = f.numbers.find(name);
      return it == f.numbers.end() ? 0.0 : it->second;
    };
    if (f.kind == "retry_storm") {
      StormMeasurements& s = location(f.place.server, f.place.location).storm;
      ++s.count;
      if (num("peak_rate") < s.peak_rate) continue;  // keep the worst storm
      s = {s.count,        f.onset_ns,           num("peak_rate"),         num("baseline_rate"),
           num("clients"), num("failing_ratio"), num("non_idempotent") > 0};
    } else if (f.kind == "worker_exhaustion") {
      workers_.peak_ratio = std::max(workers_.peak_ratio, num("peak_ratio"));
      workers_.peak_open = std::max(workers_.peak_open, static_cast<uint64_t>(num("peak_open")));
      workers_.worker_connections = static_cast<uint64_t>(num("worker_connections"));
      workers_.refused = std::max(workers_.refused, static_cast<uint64_t>(num("refused")));
    }
  }
  for (const auto& [key, bytes] : d.temp().spooled()) {
    const auto& [server, loc, kind] = key;
    if (kind == "client_body" && !loc.empty()) location(server, loc).spooled_bytes += bytes;
  }
  for (const auto& [path, p] : d.temp().paths()) {
    TempPathMeasurements& t = temp_path(path);
    t.kind = p.kind;
    t.errors = p.errors;
    if (p.space) {
      t.free_bytes = static_cast<int64_t>(p.space->free_bytes);
      t.size_bytes = static_cast<int64_t>(p.space->size_bytes);
    }
  }
}

// ---- JSON (field names are the API's: keep them stable) ----

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Extremes, count, min, max)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DurationHistogram, counts, total, max_s)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(StormMeasurements, count, onset_ns, peak_rate, baseline_rate,
                                   clients, failing_ratio, non_idempotent)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(WorkerMeasurements, peak_ratio, peak_open, worker_connections,
                                   refused)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TempPathMeasurements, kind, errors, free_bytes, size_bytes)
// With defaults: measurements handed over by an older daemon lack the newer fields.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    LocationMeasurements, upstream, requests, status_5xx, first_ts_ns, last_ts_ns, ok_durations,
    max_body, max_body_ok, read_timeouts, send_timeouts, keepalive_races, body_too_large,
    reset_sending_body, failed_after_cut, ok_clients, client_peak_per_s, peak_concurrent_body,
    spooled_bytes, temp_file_errors, storm, duplicate_risk, duplicate_risk_causes)
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
  j["workers"] = workers_;
  j["temp_paths"] = temp_paths_;
  return j;
}

Measurements Measurements::from_json(const nlohmann::json& j) {
  Measurements m;
  for (const nlohmann::json& l : j.at("locations"))
    m.location(l.at("server").get<std::string>(), l.at("location").get<std::string>()) =
        l.get<LocationMeasurements>();
  for (const nlohmann::json& u : j.at("upstreams"))
    m.upstream(u.at("name").get<std::string>()) = u.get<UpstreamMeasurements>();
  m.workers_ = j.at("workers").get<WorkerMeasurements>();
  m.temp_paths_ = j.at("temp_paths").get<std::map<std::string, TempPathMeasurements>>();
  return m;
}

}  // namespace ngxwatch::advise
