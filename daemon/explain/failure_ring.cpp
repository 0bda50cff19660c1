#include "explain/failure_ring.h"

#include <time.h>

#include <nlohmann/json.hpp>

namespace ngxwatch {

using nlohmann::json;

namespace {

int64_t clock_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
json opt(const std::optional<uint64_t>& v) { return v ? json(*v) : json(nullptr); }

template <typename T>
std::optional<T> opt_of(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<T>();
}

}  // namespace

int64_t wall_now_ns() { return clock_ns(CLOCK_REALTIME); }

int64_t FailureRing::live_wall_of(uint64_t mono_ns) {
  // The offset now: an event of a moment ago is within a clock step of the truth.
  return static_cast<int64_t>(mono_ns) + (clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));
}

FailureRing::FailureRing(ToWall to_wall, size_t capacity)
    : to_wall_(std::move(to_wall)), capacity_(std::max<size_t>(capacity, 1)) {}

void FailureRing::on_failure(const FailureObservation& f) {
  FailureRecord r;
  r.f = f;
  r.wall_ns = to_wall_ ? to_wall_(f.ts_ns) : 0;
  if (f.cause == "worker_connections_exhausted") r.client_status = -1;  // a reset, no answer
  std::lock_guard<std::mutex> lock(mu_);
  ring_.push_back(std::move(r));
  while (ring_.size() > capacity_) {
    ring_.pop_front();
    ++dropped_;
  }
}

void FailureRing::on_failure_outcome(uint64_t id, int status, bool retried) {
  if (id == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  // The answer follows its failure within seconds: it is near the back.
  for (auto it = ring_.rbegin(); it != ring_.rend(); ++it) {
    if (it->f.id != id) continue;
    it->client_status = status;
    it->retried = retried;
    return;
  }
}

std::vector<FailureRecord> FailureRing::records() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {ring_.begin(), ring_.end()};
}

uint64_t FailureRing::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

json FailureRing::to_json(int64_t started_wall_ns, int64_t now_wall_ns) const {
  json out{{"capacity", capacity_},
           {"started_wall_ns", started_wall_ns},
           {"now_wall_ns", now_wall_ns},
           {"failures", json::array()}};
  std::deque<FailureRecord> copy;
  {
    // Copied out, serialized after: the event loop's on_failure waits for a copy only.
    std::lock_guard<std::mutex> lock(mu_);
    copy = ring_;
    out["dropped"] = dropped_;
  }
  for (const auto& r : copy) out["failures"].push_back(failure_record_json(r));
  return out;
}

json failure_record_json(const FailureRecord& r) {
  const FailureObservation& f = r.f;
  return {{"id", f.id},
          {"wall_ns", r.wall_ns},
          {"ts_ns", f.ts_ns},
          {"pid", f.pid},
          {"client", f.client},
          {"method", f.client_method},
          {"path", f.client_path},
          {"peer", f.peer},
          {"upstream", f.place.upstream},
          {"server", f.place.server},
          {"location", f.place.location},
          {"phase", f.phase},
          {"error", f.error},
          {"cause", f.cause},
          {"evidence", f.evidence},
          {"request", f.request},
          {"ended_by", f.ended_by},
          {"request_bytes_sent", f.request_bytes_sent},
          {"request_total", opt(f.request_total)},
          {"response_bytes", f.response_bytes},
          {"connection_age_s", f.connection_age_s},
          {"quiet_s", f.quiet_s},
          {"idle_before_s", opt(f.idle_before_s)},
          {"keepalive_idle_s", opt(f.keepalive_idle_s)},
          {"idempotent", f.idempotent},
          {"duplicate_risk", f.duplicate_risk},
          {"risky_method", f.method},
          {"client_status", r.client_status},
          {"retried", r.retried}};
}

FailureRecord failure_record_from_json(const json& j) {
  FailureRecord r;
  FailureObservation& f = r.f;
  f.id = j.at("id").get<uint64_t>();
  r.wall_ns = j.at("wall_ns").get<int64_t>();
  f.ts_ns = j.at("ts_ns").get<uint64_t>();
  f.pid = j.at("pid").get<uint32_t>();
  for (auto [field, name] : {std::pair{&f.client, "client"},
                             {&f.client_method, "method"},
                             {&f.client_path, "path"},
                             {&f.peer, "peer"},
                             {&f.place.upstream, "upstream"},
                             {&f.place.server, "server"},
                             {&f.place.location, "location"},
                             {&f.phase, "phase"},
                             {&f.error, "error"},
                             {&f.cause, "cause"},
                             {&f.evidence, "evidence"},
                             {&f.request, "request"},
                             {&f.ended_by, "ended_by"},
                             {&f.method, "risky_method"}})
    *field = j.at(name).get<std::string>();
  f.request_bytes_sent = j.at("request_bytes_sent").get<uint64_t>();
  f.request_total = opt_of<uint64_t>(j, "request_total");
  f.response_bytes = j.at("response_bytes").get<uint64_t>();
  f.connection_age_s = j.at("connection_age_s").get<double>();
  f.quiet_s = j.at("quiet_s").get<double>();
  f.idle_before_s = opt_of<double>(j, "idle_before_s");
  f.keepalive_idle_s = opt_of<double>(j, "keepalive_idle_s");
  f.idempotent = j.at("idempotent").get<bool>();
  f.duplicate_risk = j.at("duplicate_risk").get<bool>();
  r.client_status = j.at("client_status").get<int>();
  r.retried = j.at("retried").get<bool>();
  return r;
}

}  // namespace ngxwatch
