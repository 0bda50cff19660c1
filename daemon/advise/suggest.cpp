#include "advise/suggest.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "advise/connection_header.h"
#include "advise/suggest_edits.h"
#include "advise/upload_location.h"
#include "correlate/nginx_config_view.h"
#include "nginx/proxy_target.h"

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

}  // namespace

std::vector<Suggestion> suggest(const Measurements& m, const nginx::Config& config,
                                const SuggestThresholds& thresholds) {
  std::vector<Suggestion> out;
  // The view only maps labels to locations; it does not own the configuration.
  NginxConfigView view(std::shared_ptr<const nginx::Config>(&config, [](const nginx::Config*) {}));
  Context c{m, config, view, thresholds, out};
  keepalive_timeout_rule(c);
  for (const auto& [key, lm] : m.locations()) {
    const nginx::Location* loc = view.location_of(Place{"", key.first, key.second});
    if (loc == nullptr || loc->block == nullptr) continue;
    read_timeout_rule(c, key, lm, *loc);
    send_timeout_rule(c, key, lm, *loc);
    body_size_rule(c, key, lm, *loc);
    cut_mid_body_rule(c, key, lm, *loc);
    churn_rule(c, key, lm, *loc);
  }
  return out;
}

}  // namespace ngxwatch::advise
