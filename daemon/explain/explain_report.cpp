#include "explain/explain_report.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>

namespace ngxwatch {

using nlohmann::json;

namespace {

// Which `suggest` rule (advise/suggest.cpp) removes a cause.
const std::map<std::string, std::string>& rule_of_cause() {
  static const std::map<std::string, std::string> m = {
      {"keepalive_race", "keepalive-timeout"},
      {"read_timeout", "read-timeout"},
      {"send_timeout", "send-timeout"},
      {"body_too_large", "body-size"},
      {"upstream_reset_sending_body", "backend-cut-body"},
      {"temp_file_error", "request-buffering"},
      {"worker_connections_exhausted", "worker-connections"},
  };
  return m;
}

std::string num(double v, const char* f = "%.3f") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string client_saw(const FailureRecord& r) {
  if (r.client_status == -1) return "yes: its connection was reset, no response";
  if (r.client_status == 0) return "not seen (the answer was not captured)";
  std::string s = std::to_string(r.client_status);
  if (r.retried) return "no: nginx retried, the client got " + s;
  return r.client_status >= 400 ? "yes: " + s : "no: " + s;
}

std::string bytes_line(const FailureObservation& f) {
  if (f.cause == "worker_connections_exhausted") return "none read";
  std::string s = std::to_string(f.request_bytes_sent);
  if (f.request_total) s += " of " + std::to_string(*f.request_total);
  s += f.phase == "client_body" ? " request bytes received" : " request bytes sent";
  if (f.request_total && f.request_bytes_sent < *f.request_total) s += " (body not fully sent)";
  if (f.request_total && f.request_bytes_sent >= *f.request_total && f.request_total > 0u)
    s += " (request complete)";
  return s + ", " + std::to_string(f.response_bytes) + " response bytes";
}

std::string connection_line(const FailureObservation& f) {
  std::string s =
      "age " + num(f.connection_age_s) + " s, quiet " + num(f.quiet_s) + " s before the end";
  if (f.idle_before_s) s += ", reused after " + num(*f.idle_before_s) + " s idle";
  return s;
}

std::string risk_line(const FailureObservation& f) {
  return f.method +
         " fully sent before the failure: it may have run on the backend although "
         "the client got an error (duplicate processing if it retries)";
}

std::string where(const Place& p) {
  auto dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
  return dash(p.upstream) + " / " + dash(p.server) + " / " + dash(p.location);
}

json suggestion_json(const advise::Suggestion& s) {
  return {{"id", s.id},     {"title", s.title},       {"file", s.file},
          {"line", s.line}, {"evidence", s.evidence}, {"backend_fix", s.backend_fix}};
}

}  // namespace

std::string cause_words(const std::string& cause) {
  static const std::map<std::string, std::string> m = {
      {"upstream_reset_sending_body",
       "the upstream reset the connection while nginx was still sending the request body "
       "(the body never fully reached it: its body limit, read timeout or a crash)"},
      {"upstream_reset_before_header",
       "the upstream reset the connection after the whole request reached it, before any "
       "response byte (it failed while processing the request)"},
      {"upstream_closed_before_header",
       "the upstream closed the connection before sending a response header"},
      {"upstream_reset_mid_response",
       "the upstream reset the connection in the middle of its response"},
      {"keepalive_race",
       "the upstream closed a pooled keepalive connection just as nginx reused it (idle-timeout "
       "race)"},
      {"read_timeout", "nginx gave up waiting for the upstream's response (proxy_read_timeout)"},
      {"send_timeout",
       "the upstream stopped reading the request and nginx gave up (proxy_send_timeout)"},
      {"connect_timeout", "nginx could not connect within proxy_connect_timeout"},
      {"connect_refused",
       "nothing accepted the connection at the upstream address (RST to nginx's SYN)"},
      {"body_too_large", "nginx refused a request body larger than client_max_body_size"},
      {"temp_file_error",
       "nginx could not write the body to its temp file (disk full, I/O error or permissions)"},
      {"worker_connections_exhausted",
       "the worker had no free connection: nginx closed the accepted connection unread"},
      {"client_abort", "the client left before nginx answered"},
  };
  auto it = m.find(cause);
  return it == m.end() ? cause : it->second;
}

std::vector<const advise::Suggestion*> suggestions_for(const FailureRecord& r,
                                                       const std::vector<advise::Suggestion>& all) {
  std::vector<const advise::Suggestion*> out;
  auto rule = rule_of_cause().find(r.f.cause);
  auto add = [&](const std::string& id) {
    for (const auto& s : all) {
      if (s.id != id) continue;
      bool at_location =
          !s.location.empty() && (s.server != r.f.place.server || s.location != r.f.place.location);
      bool at_upstream =
          s.location.empty() && !s.upstream.empty() && s.upstream != r.f.place.upstream;
      if (at_location || at_upstream) continue;
      out.push_back(&s);
      return;
    }
  };
  if (rule != rule_of_cause().end()) add(rule->second);
  if (r.f.duplicate_risk) add("duplicate-risk");
  return out;
}

std::string explain_text(const ExplainInput& in) {
  std::string out;
  for (const auto& n : in.notes) out += "note: " + n + "\n";
  size_t matched = 0;
  for (const Explanation& e : in.lines) {
    out += e.line.redacted + "\n";
    if (!e.record) {
      out += "  -> " + e.unmatched + "\n\n";
      continue;
    }
    ++matched;
    const FailureRecord& r = in.records[*e.record];
    const FailureObservation& f = r.f;
    out += "  -> " + f.cause + ": " + cause_words(f.cause) + "\n";
    out += "     ended by:   " + (f.ended_by.empty() ? "-" : f.ended_by) +
           (f.peer.empty() ? "" : " (upstream " + f.peer + ")") + "\n";
    out += "     bytes:      " + bytes_line(f) + "\n";
    out += "     connection: " + connection_line(f) + "\n";
    out += "     client saw: " + client_saw(r) + "\n";
    out += "     where:      " + where(f.place) + ", phase " + f.phase + "\n";
    // A request nginx never got to send upstream (connect failed): the client's.
    bool unsent = f.request.empty() || f.request == "(unparsed)";
    out +=
        "     request:    " +
        (unsent && !f.client_method.empty() ? f.client_method + " " + f.client_path : f.request) +
        "\n";
    out += "     evidence:   " + f.evidence + "\n";
    if (f.duplicate_risk) out += "     risk:       " + risk_line(f) + "\n";
    auto fixes = suggestions_for(r, in.suggestions);
    for (const auto* s : fixes) {
      out +=
          "     suggest:    " + s->title + " (" + s->file + ":" + std::to_string(s->line) + ")\n";
      if (!s->backend_fix.empty()) out += "                 backend: " + s->backend_fix + "\n";
    }
    if (fixes.empty()) out += "     suggest:    no nginx change applies to this cause\n";
    out += "\n";
  }
  out += std::to_string(in.lines.size()) + " upstream-related lines of " +
         std::to_string(in.lines_read) + ", " + std::to_string(matched) +
         " matched to a kernel record\n";
  return out;
}

json explain_json(const ExplainInput& in) {
  json arr = json::array();
  for (const Explanation& e : in.lines) {
    json j{{"line_no", e.line_no},
           {"line", e.line.redacted},
           {"kind", log_kind_name(e.line.kind)},
           {"level", e.line.level},
           {"pid", e.line.pid},
           {"connection", e.line.connection ? json(*e.line.connection) : json(nullptr)},
           {"time", e.line_wall_s ? json(*e.line_wall_s) : json(nullptr)},
           {"matched", e.record.has_value()}};
    if (!e.record) {
      j["reason"] = e.unmatched;
      arr.push_back(std::move(j));
      continue;
    }
    const FailureRecord& r = in.records[*e.record];
    json k = failure_record_json(r);
    k.erase("client");  // the join used it; the output does not repeat a client address
    k["description"] = cause_words(r.f.cause);
    k["client_saw"] = client_saw(r);
    json fixes = json::array();
    for (const auto* s : suggestions_for(r, in.suggestions)) fixes.push_back(suggestion_json(*s));
    k["suggestions"] = std::move(fixes);
    j["kernel"] = std::move(k);
    arr.push_back(std::move(j));
  }
  return arr;
}

}  // namespace ngxwatch
