#include "export/summary.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

#include "export/finding_json.h"

namespace ngxwatch {

namespace {

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

}  // namespace

void Summary::on_reset(const ResetObservation& r) {
  ResetRow& row = resets_[{r.side, r.origin, r.place.upstream, r.peer, r.place.server,
                           r.place.location, r.phase}];
  ++row.count;
  row.max_age_s = std::max(row.max_age_s, r.connection_age_s);
}

void Summary::on_failure(const FailureObservation& f) {
  FailureRow& row = failures_[{f.place.upstream, f.place.server, f.place.location, f.cause}];
  if (row.count++ == 0) {
    row.phase = f.phase;
    row.evidence = f.evidence;
    row.request = f.request;
  }
  row.non_idempotent = row.non_idempotent || !f.idempotent;
  if (f.duplicate_risk) {
    ++row.duplicate_risk;
    if (!f.method.empty() && row.risky_methods.find(f.method) == std::string::npos)
      row.risky_methods += (row.risky_methods.empty() ? "" : ",") + f.method;
  }
}

void Summary::on_client_visible(const ClientStatusObservation& s) {
  ++visible_[{s.place.server, s.place.location, s.status}];
}

void Summary::on_retry_absorbed(const Place& place) {
  ++absorbed_[{place.upstream, place.location}];
}

std::string Summary::text() const {
  std::ostringstream out;
  if (!findings_.empty()) {
    out << "FINDINGS (kind / severity / where: evidence)\n";
    for (const auto& f : findings_)
      out << "  " << f.kind << "  " << f.severity << "  "
          << (f.subject.empty() ? or_dash(f.place.server) + " " + or_dash(f.place.location)
                                : f.subject)
          << (f.active ? "" : "  (ended)") << ": " << f.evidence << "\n";
  }
  if (resets_.empty() && failures_.empty()) {
    out << "no resets and no failures on nginx sockets in this trace\n";
    return out.str();
  }
  out << "FAILURES (upstream / server / location / cause: count, phase, evidence)\n";
  for (const auto& [k, row] : failures_) {
    const auto& [upstream, server, location, cause] = k;
    out << "  " << or_dash(upstream) << "  " << or_dash(server) << "  " << or_dash(location) << "  "
        << cause << ": " << row.count << " in " << row.phase << "\n"
        << "      e.g. " << row.request << ": " << row.evidence << "\n";
  }
  bool risk = std::any_of(failures_.begin(), failures_.end(),
                          [](const auto& kv) { return kv.second.duplicate_risk > 0; });
  if (risk) {
    out << "MAY HAVE BEEN PROCESSED TWICE (request fully sent to the backend before the "
           "failure; the client got an error and may retry)\n";
    for (const auto& [k, row] : failures_) {
      if (!row.duplicate_risk) continue;
      const auto& [upstream, server, location, cause] = k;
      out << "  " << or_dash(upstream) << "  " << or_dash(server) << "  " << or_dash(location)
          << "  " << cause << ": " << row.duplicate_risk << " " << row.risky_methods << "\n";
    }
    out << "  fix: idempotency keys on the backend for these endpoints; keep non_idempotent "
           "out of proxy_next_upstream\n";
  }
  out << "RESETS (side origin / upstream peer / server location / phase: count)\n";
  for (const auto& [k, row] : resets_) {
    const auto& [side, origin, upstream, peer, server, location, phase] = k;
    out << "  " << side << " " << origin << "  " << or_dash(upstream) << " " << or_dash(peer)
        << "  " << or_dash(server) << " " << or_dash(location) << "  " << or_dash(phase) << ": "
        << row.count << "\n";
  }
  if (!visible_.empty()) {
    out << "CLIENT-VISIBLE ERRORS (server location status: count)\n";
    for (const auto& [k, n] : visible_)
      out << "  " << or_dash(std::get<0>(k)) << " " << or_dash(std::get<1>(k)) << " "
          << std::get<2>(k) << ": " << n << "\n";
  }
  if (!absorbed_.empty()) {
    out << "RETRIES ABSORBED BY NGINX (upstream location: count)\n";
    for (const auto& [k, n] : absorbed_)
      out << "  " << or_dash(k.first) << " " << or_dash(k.second) << ": " << n << "\n";
  }
  return out.str();
}

std::string Summary::json(uint64_t events, uint64_t bad_records) const {
  nlohmann::json j;
  j["events"] = events;
  j["malformed_records"] = bad_records;
  j["resets"] = nlohmann::json::array();
  for (const auto& [k, row] : resets_) {
    const auto& [side, origin, upstream, peer, server, location, phase] = k;
    j["resets"].push_back({{"side", side},
                           {"origin", origin},
                           {"upstream", upstream},
                           {"peer", peer},
                           {"server", server},
                           {"location", location},
                           {"phase", phase},
                           {"count", row.count},
                           {"max_connection_age_seconds", row.max_age_s}});
  }
  j["failures"] = nlohmann::json::array();
  for (const auto& [k, row] : failures_) {
    const auto& [upstream, server, location, cause] = k;
    j["failures"].push_back({{"upstream", upstream},
                             {"server", server},
                             {"location", location},
                             {"cause", cause},
                             {"phase", row.phase},
                             {"count", row.count},
                             {"evidence", row.evidence},
                             {"example_request", row.request},
                             {"non_idempotent", row.non_idempotent}});
  }
  j["client_visible_errors"] = nlohmann::json::array();
  for (const auto& [k, n] : visible_)
    j["client_visible_errors"].push_back({{"server", std::get<0>(k)},
                                          {"location", std::get<1>(k)},
                                          {"status", std::get<2>(k)},
                                          {"count", n}});
  j["retries_absorbed"] = nlohmann::json::array();
  for (const auto& [k, n] : absorbed_)
    j["retries_absorbed"].push_back({{"upstream", k.first}, {"location", k.second}, {"count", n}});
  j["duplicate_risk"] = nlohmann::json::array();
  for (const auto& [k, row] : failures_) {
    if (!row.duplicate_risk) continue;
    const auto& [upstream, server, location, cause] = k;
    j["duplicate_risk"].push_back({{"upstream", upstream},
                                   {"server", server},
                                   {"location", location},
                                   {"cause", cause},
                                   {"count", row.duplicate_risk},
                                   {"methods", row.risky_methods}});
  }
  j["findings"] = findings_json(findings_);
  // Captured bytes are hostile: invalid UTF-8 is replaced, never thrown on.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace ngxwatch
