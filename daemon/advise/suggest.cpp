#include "advise/suggest.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <memory>

#include "advise/connection_header.h"
#include "advise/suggest_duplicate.h"
#include "advise/suggest_edits.h"
#include "advise/upload_location.h"
#include "attribute/nginx_config_view.h"
#include "nginx/proxy_target.h"
#include "nginx/units.h"

namespace ngxwatch::advise {

namespace {

// nginx's upstream keepalive_timeout must end a pooled connection before the backend
// does; this much below the shortest idle time that met the backend's close.
constexpr double kKeepaliveMargin = 0.75;
// Successful requests this close to proxy_read_timeout mean the backend's normal
// latency reaches it (raise it); far below, the timed-out ones hung (fix the backend).
constexpr double kLatencyNearTimeout = 0.5;

struct Context {
  const Measurements& m;
  const nginx::Config& config;
  const NginxConfigView& view;
  const SuggestThresholds& thresholds;
  std::vector<Suggestion>& out;
};

std::string where(const Measurements::LocationKey& key) {
  return "location " + key.second + " of server " + key.first;
}

Suggestion at_location(std::string id, const Measurements::LocationKey& key,
                       const LocationMeasurements& lm, const nginx::Location& loc) {
  Suggestion s;
  s.id = std::move(id);
  s.server = key.first;
  s.location = key.second;
  s.upstream = lm.upstream;
  s.file = loc.block->file;
  s.line = loc.block->line;
  return s;
}

// ---- keepalive race: the backend closes pooled connections nginx still reuses ----

void keepalive_timeout_rule(const Context& c) {
  for (const auto& [name, up] : c.m.upstreams()) {
    const Extremes& idle = up.keepalive_race_idle_s;
    const nginx::Upstream* group = c.config.find_upstream(name);
    if (idle.count == 0 || group == nullptr || group->block == nullptr) continue;
    nginx::EffectiveValue current = c.config.effective(*group, "keepalive_timeout");
    double target = idle.min * kKeepaliveMargin;
    target = target >= 2 ? std::round(target) : std::max(0.1, std::floor(target * 10) / 10);
    std::optional<double> now = seconds_of(current);
    if (now && *now <= target) continue;  // already below: the races have another cause
    Suggestion s;
    s.id = "keepalive-timeout";
    s.upstream = name;
    s.file = group->block->file;
    s.line = group->block->line;
    s.title = "upstream " + name + ": keepalive_timeout " + nginx_time(target);
    s.evidence =
        count_of(idle.count, "request", "requests") + " on reused keepalive connections to " +
        name + " met a close from the backend after " + secs(idle.min) + "–" + secs(idle.max) +
        " s idle (" + std::to_string(up.keepalive_race_clients_failed) + " answered 502 to the " +
        "client, " + std::to_string(idle.count - up.keepalive_race_clients_failed) +
        " retried by nginx); backend idle timeout ≈ " + secs(idle.min) +
        " s or less; upstream keepalive_timeout is " + setting(current) +
        ": nginx keeps idle connections longer than the backend does. " + nginx_time(target) +
        " closes them first.";
    s.edits.push_back(upstream_edit(*group, "keepalive_timeout", nginx_time(target)));
    c.out.push_back(std::move(s));
  }
}

// ---- proxy_read_timeout / proxy_send_timeout against measured backend times ----

void read_timeout_rule(const Context& c, const Measurements::LocationKey& key,
                       const LocationMeasurements& lm, const nginx::Location& loc) {
  if (lm.read_timeouts == 0) return;
  nginx::EffectiveValue current = c.config.effective(loc, "proxy_read_timeout");
  double t = seconds_of(current).value_or(60);
  const DurationHistogram& ok = lm.ok_durations;
  Suggestion s = at_location("read-timeout", key, lm, loc);
  s.evidence = count_of(lm.read_timeouts, "request", "requests") + " to " + lm.upstream + " at " +
               where(key) + " got no upstream byte for " + secs(t) +
               " s and nginx gave up (504): " + "proxy_read_timeout is " + setting(current) + "; ";
  if (ok.total > 0 && ok.max_s >= kLatencyNearTimeout * t) {
    double target = std::ceil(std::max(2 * t, 2 * ok.max_s));
    s.title = where(key) + ": proxy_read_timeout " + nginx_time(target);
    s.evidence += "the " + std::to_string(ok.total) + " that succeeded took up to " +
                  secs(ok.max_s) + " s (p99 " + secs(ok.quantile(0.99)) +
                  " s): the backend's normal latency runs into the timeout.";
    s.edits.push_back(location_edit(loc, "proxy_read_timeout", nginx_time(target)));
  } else {
    s.title = where(key) + ": the backend hangs on some requests (fix it there)";
    s.evidence += ok.total > 0
                      ? "the " + std::to_string(ok.total) + " that succeeded took at most " +
                            secs(ok.max_s) + " s, far below it."
                      : "no request there succeeded in this window.";
    s.backend_fix =
        "Find out why the backend " + lm.upstream + " stops answering (locks, a slow " +
        "dependency, an exhausted worker pool); raising proxy_read_timeout would only " +
        "make clients wait longer. If the work legitimately takes longer than " + secs(t) +
        " s, set proxy_read_timeout above that time in this location.";
  }
  c.out.push_back(std::move(s));
}

void send_timeout_rule(const Context& c, const Measurements::LocationKey& key,
                       const LocationMeasurements& lm, const nginx::Location& loc) {
  if (lm.send_timeouts == 0) return;
  nginx::EffectiveValue current = c.config.effective(loc, "proxy_send_timeout");
  double t = seconds_of(current).value_or(60);
  double target = std::max(2 * t, 60.0);
  Suggestion s = at_location("send-timeout", key, lm, loc);
  s.title = where(key) + ": proxy_send_timeout " + nginx_time(target);
  s.evidence = count_of(lm.send_timeouts, "upload", "uploads") + " to " + lm.upstream + " at " +
               where(key) + " stalled: the backend stopped reading the request body for " +
               secs(t) + " s and nginx gave up; proxy_send_timeout is " + setting(current) +
               " (largest body there " + human_bytes(static_cast<double>(lm.max_body)) + ").";
  s.edits.push_back(location_edit(loc, "proxy_send_timeout", nginx_time(target)));
  s.backend_fix = "The backend " + lm.upstream + " pauses reading uploads for " + secs(t) +
                  " s or more: check its request-body handling (a full disk, a slow store).";
  c.out.push_back(std::move(s));
}

// ---- client_max_body_size from the measured bodies ----

void body_size_rule(const Context& c, const Measurements::LocationKey& key,
                    const LocationMeasurements& lm, const nginx::Location& loc) {
  const Extremes& refused = lm.body_too_large;
  if (refused.count == 0) return;
  nginx::EffectiveValue current = c.config.effective(loc, "client_max_body_size");
  Suggestion s = at_location("body-size", key, lm, loc);
  s.evidence = count_of(refused.count, "request", "requests") + " at " + where(key) + " got 413: ";
  double biggest = std::max(refused.max, static_cast<double>(lm.max_body_ok));
  if (refused.max <= 0) {
    s.title = where(key) + ": body sizes unknown (chunked uploads)";
    s.evidence +=
        "the bodies were sent without Content-Length, so their size was not measured; "
        "client_max_body_size is " +
        setting(current) + ".";
    c.out.push_back(std::move(s));
    return;
  }
  // Next power of two MiB at or above 1.25x the largest body seen.
  uint64_t mib = 1;
  while (static_cast<double>(mib) * 1024 * 1024 < biggest * 1.25) mib *= 2;
  s.title = where(key) + ": client_max_body_size " + std::to_string(mib) + "m";
  s.evidence += "bodies of " + human_bytes(refused.min) + "–" + human_bytes(refused.max) +
                " (Content-Length) against client_max_body_size " + setting(current) +
                "; largest body accepted there " +
                human_bytes(static_cast<double>(lm.max_body_ok)) + ". " + std::to_string(mib) +
                "m is the next power of two at or above 1.25× the largest.";
  s.edits.push_back(location_edit(loc, "client_max_body_size", std::to_string(mib) + "m"));
  c.out.push_back(std::move(s));
}

// ---- the backend cut uploads mid-body: its limit or read timeout ----

void cut_mid_body_rule(const Context& c, const Measurements::LocationKey& key,
                       const LocationMeasurements& lm, const nginx::Location& loc) {
  const Extremes& cut = lm.reset_sending_body;
  if (cut.count == 0) return;
  Suggestion s = at_location("backend-cut-body", key, lm, loc);
  s.title = where(key) + ": the backend " + lm.upstream + " cuts uploads (fix it there)";
  s.evidence = "the backend " + lm.upstream + " reset " + count_of(cut.count, "upload", "uploads") +
               " at " + where(key) + " while nginx was still sending the body (bodies of " +
               human_bytes(cut.min) + "–" + human_bytes(cut.max) + ", " +
               std::to_string(lm.failed_after_cut) + " answered 5xx to the client).";
  s.backend_fix = "Raise the backend's own request-body limit above " + human_bytes(cut.max) +
                  " and its read timeout for slow uploads; nginx cannot fix a backend that " +
                  "refuses the body.";
  nginx::EffectiveValue buffering = c.config.effective(loc, "proxy_request_buffering");
  if (buffering.value() == "off") {
    s.evidence += " proxy_request_buffering is " + setting(buffering) +
                  ": the body trickles to the backend at the client's pace, so a backend read " +
                  "timeout meets every slow client.";
    s.backend_fix += " Or let nginx take the whole body first (proxy_request_buffering on) and " +
                     std::string("send it at local speed.");
    s.edits.push_back(location_edit(loc, "proxy_request_buffering", "on"));
  }
  c.out.push_back(std::move(s));
}

// ---- connection churn: keepalive, HTTP/1.1 and Connection "" ----

void churn_rule(const Context& c, const Measurements::LocationKey& key,
                const LocationMeasurements& lm, const nginx::Location& loc) {
  if (lm.requests < c.thresholds.churn_min_requests) return;
  std::optional<nginx::ProxyTarget> target = nginx::proxy_target(c.config, loc);
  if (!target || target->upstream == nullptr || target->upstream->block == nullptr) return;
  const nginx::Upstream& up = *target->upstream;
  Suggestion s = at_location("keepalive-churn", key, lm, loc);
  std::vector<std::string> missing;
  if (!defines(up.block, "keepalive")) {
    missing.push_back("upstream " + up.name + " (" + up.where() + ") has no keepalive pool");
    s.edits.push_back(upstream_edit(up, "keepalive", "16"));
  }
  nginx::EffectiveValue version = c.config.effective(loc, "proxy_http_version");
  if (version.value() != "1.1") {
    missing.push_back("proxy_http_version is " + setting(version));
    s.edits.push_back(location_edit(loc, "proxy_http_version", "1.1"));
  }
  nginx::EffectiveValue headers = c.config.effective(loc, "proxy_set_header");
  if (connection_header(headers) == ConnectionHeader::kAbsent) {
    missing.push_back("nginx sends \"Connection: close\" (no proxy_set_header Connection \"\")");
    // A level's own proxy_set_header replaces the outer list: add to the defining level.
    s.edits.push_back(headers.is_default()
                          ? location_edit(loc, "proxy_set_header", "Connection \"\"")
                          : insert_after_edit(*headers.occurrences.back(), "proxy_set_header",
                                              "Connection \"\""));
  }
  if (missing.empty() || connection_header(headers) == ConnectionHeader::kClose) return;
  double window = static_cast<double>(lm.last_ts_ns - lm.first_ts_ns) / 1e9;
  s.title = where(key) + ": reuse connections to " + up.name;
  s.evidence = count_of(lm.requests, "request", "requests") + " at " + where(key) + " in " +
               secs(window) + " s each opened a new connection to " + up.name + ": ";
  for (size_t i = 0; i < missing.size(); ++i) s.evidence += (i ? "; " : "") + missing[i];
  s.evidence += ".";
  c.out.push_back(std::move(s));
}

// ---- retry storm: a per-client rate limit at the location ----

// limit_req_zone names are http-wide: the location's path words, so the zone says
// where it applies.
std::string zone_name(const std::string& location) {
  std::string name = "ngxw_";
  for (char ch : location) {
    if (std::isalnum(static_cast<unsigned char>(ch)))
      name += ch;
    else if (name.back() != '_')
      name += '_';
  }
  while (name.size() > 5 && name.back() == '_') name.pop_back();
  return name.size() > 5 ? name : "ngxw_root";
}

void storm_rule(const Context& c, const Measurements::LocationKey& key,
                const LocationMeasurements& lm, const nginx::Location& loc) {
  const StormMeasurements& st = lm.storm;
  if (st.count == 0 || c.config.http_block() == nullptr) return;
  // Twice what one client normally asks for, per second; the burst lets a client's
  // normal peak through at once (nodelay), so only the retries are refused.
  double clients = static_cast<double>(std::max<uint64_t>(lm.ok_clients, 1));
  double per_client = st.baseline_rate / clients;
  auto rate = static_cast<uint64_t>(std::max(1.0, std::ceil(2 * per_client)));
  uint64_t burst = std::max(rate, lm.client_peak_per_s);
  std::string zone = zone_name(key.second);
  Suggestion s = at_location("rate-limit", key, lm, loc);
  s.title = where(key) + ": limit_req " + std::to_string(rate) + "r/s per client (burst " +
            std::to_string(burst) + ")";
  char numbers[256];
  std::snprintf(numbers, sizeof numbers,
                "a retry storm at %s (onset at %.1f s of event time): %.1f req/s at its peak "
                "against a baseline of %.2f req/s, %.0f clients retrying, %.0f%% failing",
                where(key).c_str(), static_cast<double>(st.onset_ns) / 1e9, st.peak_rate,
                st.baseline_rate, st.clients, st.failing_ratio * 100);
  s.evidence = numbers;
  if (st.non_idempotent)
    s.evidence += "; non-idempotent requests were retried (duplicate-processing risk)";
  s.evidence += ". Normally " + count_of(lm.ok_clients, "client", "clients") + " got answers, " +
                "at most " + std::to_string(lm.client_peak_per_s) +
                " per second each: a limit of " + std::to_string(rate) +
                "r/s (2× the baseline per client) with burst " + std::to_string(burst) +
                " refuses the retries (429) and lets normal traffic through.";
  nginx::EffectiveValue current = c.config.effective(loc, "limit_req");
  if (!current.is_default()) {
    s.evidence += " limit_req is already set (" + setting(current) + "): lower its rate there.";
    c.out.push_back(std::move(s));
    return;
  }
  s.edits.push_back(
      block_edit(*c.config.http_block(), "limit_req_zone",
                 "$binary_remote_addr zone=" + zone + ":10m rate=" + std::to_string(rate) + "r/s",
                 /*add=*/true));
  s.edits.push_back(location_edit(loc, "limit_req",
                                  "zone=" + zone + " burst=" + std::to_string(burst) + " nodelay"));
  // 503 (the default) reads as "server broken, retry"; 429 as "slow down".
  if (c.config.effective(loc, "limit_req_status").is_default())
    s.edits.push_back(location_edit(loc, "limit_req_status", "429"));
  c.out.push_back(std::move(s));
}

// ---- worker exhaustion: worker_connections and the descriptors behind them ----

uint64_t next_power_of_two(uint64_t n) {
  uint64_t p = 1;
  while (p < n) p *= 2;
  return p;
}

void worker_rule(const Context& c) {
  const WorkerMeasurements& w = c.m.workers();
  const nginx::Directive* events = c.config.events_block();
  if ((w.refused == 0 && w.peak_ratio < 0.9) || events == nullptr) return;
  nginx::EffectiveValue current = c.config.effective_events("worker_connections");
  uint64_t limit = nginx::parse_size(current.value()).value_or(512);
  // Refusals mean demand reached the limit even when no tick saw the table full.
  uint64_t peak = std::max(w.peak_open, w.refused > 0 ? limit : 0);
  uint64_t target = next_power_of_two(2 * peak);
  if (target <= limit) return;
  Suggestion s;
  s.id = "worker-connections";
  s.file = events->file;
  s.line = events->line;
  s.title = "events: worker_connections " + std::to_string(target);
  char numbers[200];
  std::snprintf(numbers, sizeof numbers,
                "the busiest nginx worker held up to %llu connections (client and upstream), "
                "%.0f%% of worker_connections; ",
                static_cast<unsigned long long>(w.peak_open), w.peak_ratio * 100);
  s.evidence = numbers + std::to_string(w.refused) +
               " accepted connections were closed unread (no free worker connection: the client "
               "sees a reset, nothing reaches the access log); worker_connections is " +
               setting(current) + ". " + std::to_string(target) +
               " is the next power of two at or above twice the peak.";
  s.edits.push_back(block_edit(*events, "worker_connections", std::to_string(target)));
  // Each connection is a descriptor: the worker's RLIMIT_NOFILE must allow them (a
  // client and an upstream socket per proxied request, plus files).
  nginx::EffectiveValue nofile = c.config.effective_main("worker_rlimit_nofile");
  auto have = nginx::parse_size(nofile.value());
  if (nofile.is_default() || !have || *have < 2 * target) {
    s.evidence += " worker_rlimit_nofile is " + setting(nofile) + ": raised to " +
                  std::to_string(2 * target) + " so the descriptors exist.";
    s.edits.push_back(
        main_edit(c.config, *events, "worker_rlimit_nofile", std::to_string(2 * target)));
  }
  c.out.push_back(std::move(s));
}

// ---- temp path of request bodies full: stream bodies instead of spooling them ----

void temp_rule(const Context& c, const Measurements::LocationKey& key,
               const LocationMeasurements& lm, const nginx::Location& loc) {
  if (lm.temp_file_errors == 0 || !is_proxied(loc)) return;
  nginx::EffectiveValue buffering = c.config.effective(loc, "proxy_request_buffering");
  if (buffering.value() == "off") return;  // nothing spooled for the backend here
  nginx::EffectiveValue temp = c.config.effective(loc, "client_body_temp_path");
  std::string path = temp.values().empty() ? temp.value() : temp.values().front();
  Suggestion s = at_location("request-buffering", key, lm, loc);
  s.title = where(key) + ": proxy_request_buffering off (the body temp path is full)";
  s.evidence = count_of(lm.temp_file_errors, "request body", "request bodies") + " at " +
               where(key) + " could not be written to client_body_temp_path " + path + " (" +
               (temp.is_default() ? std::string("compiled-in default") : "at " + temp.origin()) +
               "); ";
  auto known = c.m.temp_paths().find(path);
  if (known != c.m.temp_paths().end() && known->second.free_bytes >= 0)
    s.evidence += "its filesystem had " +
                  human_bytes(static_cast<double>(known->second.free_bytes)) + " free of " +
                  human_bytes(static_cast<double>(known->second.size_bytes)) + "; ";
  else
    s.evidence += "its free space was not measured (replayed trace); ";
  uint64_t room = 2 * std::max(lm.peak_concurrent_body, lm.max_body);
  s.evidence += "nginx spooled " + human_bytes(static_cast<double>(lm.spooled_bytes)) +
                " of bodies there, bodies up to " + human_bytes(static_cast<double>(lm.max_body)) +
                ", up to " + human_bytes(static_cast<double>(lm.peak_concurrent_body)) +
                " in flight at once. With request buffering off nginx streams bodies to " +
                lm.upstream +
                " and spools none: no temp file to fail. Tradeoff: nginx cannot retry a "
                "request on another upstream server once the body is sent, and the backend "
                "sees slow clients at their pace. If the backend cannot take that, keep "
                "buffering and set client_body_temp_path on a filesystem with at least " +
                human_bytes(static_cast<double>(room)) + " free (twice the bodies in flight).";
  s.edits.push_back(location_edit(loc, "proxy_request_buffering", "off"));
  c.out.push_back(std::move(s));
}

}  // namespace

std::vector<Suggestion> suggest(const Measurements& m, const nginx::Config& config,
                                const SuggestThresholds& thresholds) {
  std::vector<Suggestion> out;
  // The view only maps labels to locations; it does not own the configuration, nor
  // match peers, so no name is resolved (DNS on every live refresh, and for a trace's
  // names, was most of a suggestion's time).
  NginxConfigView view(std::shared_ptr<const nginx::Config>(&config, [](const nginx::Config*) {}),
                       std::string(), nginx::resolve_literal);
  Context c{m, config, view, thresholds, out};
  keepalive_timeout_rule(c);
  worker_rule(c);
  for (const auto& [key, lm] : m.locations()) {
    const nginx::Location* loc = view.location_of(Place{"", key.first, key.second});
    if (loc == nullptr || loc->block == nullptr) continue;
    read_timeout_rule(c, key, lm, *loc);
    send_timeout_rule(c, key, lm, *loc);
    body_size_rule(c, key, lm, *loc);
    cut_mid_body_rule(c, key, lm, *loc);
    churn_rule(c, key, lm, *loc);
    storm_rule(c, key, lm, *loc);
    temp_rule(c, key, lm, *loc);
    Suggestion dup = at_location("duplicate-risk", key, lm, *loc);
    if (duplicate_risk_suggestion(dup, lm, config, *loc)) out.push_back(std::move(dup));
  }
  return out;
}

}  // namespace ngxwatch::advise
