#include "api/live_stats.h"

#include <algorithm>
#include <chrono>

#include "correlate/http_head.h"
#include "export/finding_json.h"

namespace ngxwatch {

namespace {

using nlohmann::json;

// The correlator stores redacted lines already; redacting again here keeps the
// guarantee local to the one place that serves them (the API).
std::string redact_line(const std::string& line) {
  size_t sp = line.find(' ');
  if (sp == std::string::npos) return redact_target(line);
  return line.substr(0, sp) + " " + redact_target(std::string_view(line).substr(sp + 1));
}

json rates(const RollingCounter& c, int64_t now_s) {
  return {{"1s", c.rate(now_s, 1)}, {"10s", c.rate(now_s, 10)}, {"60s", c.rate(now_s, 60)}};
}

json optional_number(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json suggestion_json(const std::optional<SuggestionInfo>& s) {
  if (!s) return nullptr;
  return {{"title", s->title}, {"evidence", s->evidence}, {"diff", s->diff}};
}

json place_json(const Place& p) {
  return {{"upstream", p.upstream}, {"server", p.server}, {"location", p.location}};
}

json event_json(const LiveEvent& e, uint64_t now_ms) {
  return {{"kind", e.kind},
          {"age_s", static_cast<double>(now_ms - e.at_ms) / 1000.0},
          {"request", e.request},
          {"phase", e.phase},
          {"cause", e.cause},
          {"evidence", e.evidence},
          {"peer", e.peer},
          {"side", e.side},
          {"origin", e.origin},
          {"reason", e.reason},
          {"request_bytes", e.request_bytes},
          {"connection_age_s", e.connection_age_s},
          {"keepalive_idle_s", optional_number(e.keepalive_idle_s)},
          {"duplicate_risk", e.duplicate_risk}};
}

// What the other stages add (snapshot_extras.h): storms, temp dirs, suggestions (the
// top one, and one per row of `out["rows"]`, whose places are `places`).
void fill_extras(json& out, const std::vector<std::shared_ptr<const SnapshotExtras>>& extras,
                 const std::vector<Place>& places) {
  json storms = json::array(), temp_dirs = json::array();
  json top = nullptr;
  for (const auto& x : extras) {
    for (const auto& s : x->storms()) {
      json j = place_json(s.place);
      j.update({{"method", s.method},
                {"path", redact_target(s.path)},
                {"rate_per_s", s.rate_per_s},
                {"baseline_per_s", s.baseline_per_s},
                {"failure_ratio", s.failure_ratio},
                {"clients", s.clients},
                {"onset_age_s", s.onset_age_s}});
      storms.push_back(std::move(j));
    }
    for (const auto& t : x->temp_dirs())
      temp_dirs.push_back({{"path", t.path},
                           {"total_bytes", t.total_bytes},
                           {"free_bytes", t.free_bytes},
                           {"fill_bytes_per_s", t.fill_bytes_per_s},
                           {"eta_s", optional_number(t.eta_s)}});
    if (top.is_null()) top = suggestion_json(x->top_suggestion());
    for (size_t i = 0; i < places.size(); ++i) {
      json& row = out["rows"][i];
      if (row["suggestion"].is_null())
        row["suggestion"] = suggestion_json(x->suggestion_for(places[i], row["phase"]));
    }
  }
  out["header"]["active_storms"] = storms.size();
  out["storms"] = std::move(storms);
  out["temp_dirs"] = std::move(temp_dirs);
  out["suggestion"] = std::move(top);
}

}  // namespace

uint64_t LiveStats::steady_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

LiveStats::LiveStats(Clock clock, size_t latest_per_row, size_t max_rows)
    : clock_(std::move(clock)),
      latest_per_row_(latest_per_row),
      max_rows_(max_rows),
      started_ms_(clock_()) {}

LiveStats::Row& LiveStats::row(const Place& place, const std::string& phase) {
  Key key{place.upstream, place.server, place.location, phase};
  auto it = rows_.find(key);
  if (it != rows_.end()) return it->second;
  // Rows come from config names, so they are few; the cap guards against a config
  // with thousands of locations all failing at once.
  if (rows_.size() >= max_rows_) key = {"(other)", "(other)", "(other)", "(other)"};
  return rows_[key];
}

void LiveStats::remember(Row& r, LiveEvent e) {
  r.last_ms = e.at_ms;
  r.latest.push_front(std::move(e));
  while (r.latest.size() > latest_per_row_) r.latest.pop_back();
}

void LiveStats::on_reset(const ResetObservation& o) {
  uint64_t now = clock_();
  int64_t sec = static_cast<int64_t>(now / 1000);
  std::lock_guard lock(mu_);
  resets_.add(sec);
  Row& r = row(o.place, o.phase);
  r.events.add(sec);
  r.resets.add(sec);
  LiveEvent e;
  e.kind = "reset";
  e.at_ms = now;
  e.request = redact_line(o.request);
  e.phase = o.phase;
  e.peer = o.peer;
  e.side = o.side;
  e.origin = o.origin;
  e.reason = o.reason;
  e.request_bytes = o.request_bytes;
  e.connection_age_s = o.connection_age_s;
  e.keepalive_idle_s = o.keepalive_idle_s;
  remember(r, std::move(e));
}

void LiveStats::on_failure(const FailureObservation& f) {
  uint64_t now = clock_();
  int64_t sec = static_cast<int64_t>(now / 1000);
  std::lock_guard lock(mu_);
  if (!f.error.empty()) upstream_errors_.add(sec);
  Row& r = row(f.place, f.phase);
  r.events.add(sec);
  r.failures.add(sec);
  LiveEvent e;
  e.kind = "failure";
  e.at_ms = now;
  e.request = redact_line(f.request);
  e.phase = f.phase;
  e.cause = f.cause;
  e.evidence = f.evidence;
  e.peer = f.peer;
  e.keepalive_idle_s = f.keepalive_idle_s;
  e.duplicate_risk = f.duplicate_risk;
  if (!f.cause.empty()) ++r.causes[f.cause];
  if (f.duplicate_risk) {
    ++r.duplicate_risk;
    ++duplicate_risk_;
  }
  remember(r, std::move(e));
}

void LiveStats::on_client_visible(const ClientStatusObservation& s) {
  int64_t sec = static_cast<int64_t>(clock_() / 1000);
  std::lock_guard lock(mu_);
  client_errors_.add(sec);
  std::tuple<std::string, std::string, int> key{s.place.server, s.place.location, s.status};
  if (visible_.size() < max_rows_ || visible_.count(key)) ++visible_[key];
}

void LiveStats::on_request(const RequestObservation& r) {
  std::pair<std::string, std::string> key{r.place.server, r.place.location};
  std::lock_guard lock(mu_);
  if (requests_.size() >= max_rows_ && !requests_.count(key)) key = {"(other)", "(other)"};
  requests_[key] += r.weight;
}

void LiveStats::on_retry_absorbed(const Place&) {
  int64_t sec = static_cast<int64_t>(clock_() / 1000);
  std::lock_guard lock(mu_);
  retries_absorbed_.add(sec);
}

void LiveStats::set_dropped_source(std::function<uint64_t()> source) {
  std::lock_guard lock(mu_);
  dropped_ = std::move(source);
}

void LiveStats::set_config_source(std::function<std::string()> source) {
  std::lock_guard lock(mu_);
  config_ = std::move(source);
}

void LiveStats::set_findings(std::vector<Finding> findings) {
  std::lock_guard lock(mu_);
  findings_ = std::move(findings);
}

void LiveStats::add_extras(std::shared_ptr<const SnapshotExtras> extras) {
  std::lock_guard lock(mu_);
  extras_.push_back(std::move(extras));
}

void LiveStats::set_kernel(nlohmann::json kernel) {
  std::lock_guard lock(mu_);
  kernel_ = std::move(kernel);
}

nlohmann::json LiveStats::snapshot() const {
  uint64_t now = clock_();
  int64_t sec = static_cast<int64_t>(now / 1000);
  json out;
  std::vector<std::shared_ptr<const SnapshotExtras>> extras;
  std::function<uint64_t()> dropped;
  std::function<std::string()> config;
  std::vector<Place> places;  // per row, for the suggestion look-up outside the lock
  {
    std::lock_guard lock(mu_);
    extras = extras_;
    dropped = dropped_;
    config = config_;
    out["version"] = 1;
    out["uptime_s"] = static_cast<double>(now - started_ms_) / 1000.0;
    out["kernel"] = kernel_;
    out["header"] = {
        {"resets_per_s", rates(resets_, sec)},
        {"upstream_errors_per_s", rates(upstream_errors_, sec)},
        {"client_errors_per_s", rates(client_errors_, sec)},
        {"totals",
         {{"resets", resets_.total()},
          {"upstream_errors", upstream_errors_.total()},
          {"client_errors", client_errors_.total()},
          {"retries_absorbed", retries_absorbed_.total()},
          {"duplicate_risk", duplicate_risk_}}},
        {"active_storms", 0},
    };
    // Busiest first (10 s rate, then total), so a truncated reader sees what matters.
    std::vector<const std::pair<const Key, Row>*> order;
    for (const auto& entry : rows_) order.push_back(&entry);
    std::stable_sort(order.begin(), order.end(), [sec](auto* a, auto* b) {
      double ra = a->second.events.rate(sec, 10), rb = b->second.events.rate(sec, 10);
      if (ra != rb) return ra > rb;
      return a->second.events.total() > b->second.events.total();
    });
    json rows = json::array();
    for (const auto* entry : order) {
      const auto& [upstream, server, location, phase] = entry->first;
      const Row& r = entry->second;
      json latest = json::array();
      for (const auto& e : r.latest) latest.push_back(event_json(e, now));
      rows.push_back({{"upstream", upstream},
                      {"server", server},
                      {"location", location},
                      {"phase", phase},
                      {"rates", rates(r.events, sec)},
                      {"totals",
                       {{"events", r.events.total()},
                        {"resets", r.resets.total()},
                        {"failures", r.failures.total()},
                        {"duplicate_risk", r.duplicate_risk},
                        {"causes", r.causes}}},
                      {"history", r.events.history(sec)},
                      {"last_age_s", static_cast<double>(now - r.last_ms) / 1000.0},
                      {"latest", std::move(latest)},
                      {"suggestion", nullptr}});
      places.push_back(Place{upstream, server, location});
    }
    out["rows"] = std::move(rows);
    out["findings"] = findings_json(findings_);
    json visible = json::array(), requests = json::array();
    for (const auto& [k, n] : visible_)
      visible.push_back({{"server", std::get<0>(k)},
                         {"location", std::get<1>(k)},
                         {"status", std::get<2>(k)},
                         {"count", n}});
    for (const auto& [k, n] : requests_)
      requests.push_back({{"server", k.first}, {"location", k.second}, {"count", n}});
    out["client_visible"] = std::move(visible);
    out["requests"] = std::move(requests);
  }
  // Outside the lock: the kernel read and the providers must not stall the event loop.
  out["dropped_events"] = dropped ? dropped() : 0;
  out["config"] = config ? config() : std::string();
  fill_extras(out, extras, places);
  return out;
}

}  // namespace ngxwatch
