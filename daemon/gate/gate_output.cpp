#include "gate/gate_output.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <sstream>

#include "export/finding_json.h"

namespace ngxwatch::gate {

namespace {

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

std::string mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

}  // namespace

std::string command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`") == std::string::npos;
    out += plain ? a : "'" + a + "'";
  }
  return out;
}

std::string format_text(const GateReport& r, const std::vector<std::string>& reasons) {
  std::ostringstream out;
  out << "LOAD `" << command_line(r.load_command) << "` exited " << r.load_status << " after "
      << seconds(r.load_seconds) << "; watched by " << r.source << ": " << r.events
      << " kernel events";
  if (r.requests) out << ", " << *r.requests << " client requests";
  out << "\n";
  out << "LOCATIONS (server location: requests, client-visible errors, resets)\n";
  if (r.locations.empty()) out << "  none: no request reached a watched nginx\n";
  for (const auto& l : r.locations) {
    out << "  " << or_dash(l.server) << " " << or_dash(l.location) << ": "
        << (l.requests ? std::to_string(*l.requests) : "?") << " requests, "
        << l.client_error_total() << " client-visible errors";
    if (!l.client_errors.empty()) {
      out << " (";
      bool first = true;
      for (const auto& [status, n] : l.client_errors) {
        out << (first ? "" : ", ") << n << "x" << status;
        first = false;
      }
      out << ")";
    }
    out << ", " << l.resets << " resets\n";
  }
  bool any_failure = false;
  for (const auto& l : r.locations) any_failure = any_failure || !l.failures.empty();
  if (any_failure) {
    out << "FAILURES (upstream / server / location / cause: count, phase, evidence)\n";
    for (const auto& l : r.locations)
      for (const auto& f : l.failures) {
        out << "  " << or_dash(f.upstream) << "  " << or_dash(l.server) << "  "
            << or_dash(l.location) << "  " << f.cause << ": " << f.count << " in "
            << or_dash(f.phase);
        if (f.duplicate_risk) out << ", " << f.duplicate_risk << " may have run on the backend";
        out << "\n      e.g. " << or_dash(f.request) << ": " << or_dash(f.evidence) << "\n";
      }
  }
  if (!r.findings.empty()) {
    out << "FINDINGS (kind / severity / where: evidence)\n";
    for (const auto& f : r.findings)
      out << "  " << f.kind << "  " << f.severity << "  "
          << (f.subject.empty() ? or_dash(f.place.server) + " " + or_dash(f.place.location)
                                : f.subject)
          << (f.active ? "" : "  (ended)") << ": " << f.evidence << "\n";
  }
  if (!r.temp_dirs.empty()) {
    out << "TEMP DIRS (path kind: high-water in use / size, free now, time to full)\n";
    for (const auto& t : r.temp_dirs) {
      out << "  " << t.path << " " << t.kind << ": " << mib(t.high_water_used_bytes) << " / "
          << mib(t.size_bytes) << ", " << mib(t.free_bytes_now) << " free, "
          << (t.min_eta_s ? "full in " + seconds(*t.min_eta_s) : std::string("not filling"));
      if (t.write_errors) out << ", " << t.write_errors << " failed writes";
      out << "\n";
    }
  }
  if (!r.suggestions.empty()) out << "SUGGESTED CHANGES\n" << r.suggestions;
  for (const auto& n : r.notes) out << "note: " << n << "\n";
  if (r.load_status != 0)
    out << "VERDICT: FAIL: the load command exited " << r.load_status << "\n";
  else if (!reasons.empty())
    out << "VERDICT: FAIL\n";
  else
    out << "VERDICT: PASS\n";
  for (const auto& why : reasons) out << "  " << why << "\n";
  return out.str();
}

std::string format_json(const GateReport& r, const std::vector<std::string>& reasons) {
  nlohmann::json j;
  j["verdict"] = r.load_status != 0 ? "fail" : reasons.empty() ? "pass" : "fail";
  j["reasons"] = reasons;
  j["source"] = r.source;
  j["load"] = {{"command", r.load_command}, {"status", r.load_status}, {"seconds", r.load_seconds}};
  j["events"] = r.events;
  j["requests"] = r.requests ? nlohmann::json(*r.requests) : nlohmann::json();
  j["client_visible_errors"] = r.client_error_total();
  j["locations"] = nlohmann::json::array();
  for (const auto& l : r.locations) {
    nlohmann::json loc = {{"server", l.server},
                          {"location", l.location},
                          {"requests", l.requests ? nlohmann::json(*l.requests) : nlohmann::json()},
                          {"resets", l.resets},
                          {"client_visible_errors", l.client_error_total()}};
    loc["client_errors"] = nlohmann::json::array();
    for (const auto& [status, n] : l.client_errors)
      loc["client_errors"].push_back({{"status", status}, {"count", n}});
    loc["failures"] = nlohmann::json::array();
    for (const auto& f : l.failures)
      loc["failures"].push_back({{"upstream", f.upstream},
                                 {"cause", f.cause},
                                 {"phase", f.phase},
                                 {"count", f.count},
                                 {"duplicate_risk", f.duplicate_risk},
                                 {"evidence", f.evidence},
                                 {"example_request", f.request}});
    j["locations"].push_back(std::move(loc));
  }
  j["findings"] = findings_json(r.findings);
  j["temp_dirs"] = nlohmann::json::array();
  for (const auto& t : r.temp_dirs)
    j["temp_dirs"].push_back(
        {{"path", t.path},
         {"kind", t.kind},
         {"size_bytes", t.size_bytes},
         {"high_water_used_bytes", t.high_water_used_bytes},
         {"free_bytes_now", t.free_bytes_now},
         {"min_seconds_to_full", t.min_eta_s ? nlohmann::json(*t.min_eta_s) : nlohmann::json()},
         {"write_errors", t.write_errors}});
  j["suggestions"] = r.suggestions;
  j["notes"] = r.notes;
  // Captured bytes are hostile: invalid UTF-8 is replaced, never thrown on.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace ngxwatch::gate
