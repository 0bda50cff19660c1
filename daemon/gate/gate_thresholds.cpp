#include "gate/gate_thresholds.h"

#include <sstream>

namespace ngxwatch::gate {

const std::vector<std::string>& known_causes() {
  static const std::vector<std::string> causes = {"connect_refused",
                                                  "connect_timeout",
                                                  "upstream_reset_sending_body",
                                                  "upstream_reset_before_header",
                                                  "upstream_closed_before_header",
                                                  "upstream_reset_mid_response",
                                                  "keepalive_race",
                                                  "read_timeout",
                                                  "send_timeout",
                                                  "client_abort",
                                                  "body_too_large",
                                                  "temp_file_error",
                                                  "worker_connections_exhausted"};
  return causes;
}

std::set<std::string> parse_causes(const std::string& list, std::string* error) {
  std::set<std::string> out;
  std::stringstream in(list);
  for (std::string name; std::getline(in, name, ',');) {
    if (name.empty()) continue;
    bool known = false;
    for (const auto& c : known_causes()) known = known || c == name;
    if (!known) {
      std::string all;
      for (const auto& c : known_causes()) all += (all.empty() ? "" : ", ") + c;
      *error = "--fail-on: unknown cause \"" + name + "\" (known: " + all + ")";
      return {};
    }
    out.insert(name);
  }
  return out;
}

std::vector<std::string> location_reasons(const LocationReport& l, const Thresholds& t,
                                          bool over_client_limit) {
  std::vector<std::string> out;
  for (const auto& f : l.failures)
    if (t.fail_on.count(f.cause))
      out.push_back(std::to_string(f.count) + " " + f.cause + " (--fail-on)");
  if (over_client_limit && l.client_error_total() > 0)
    out.push_back(std::to_string(l.client_error_total()) + " client-visible errors");
  return out;
}

std::vector<std::string> run_reasons(const GateReport& r, const Thresholds& t) {
  std::vector<std::string> out;
  uint64_t visible = r.client_error_total();
  if (visible > t.max_client_errors)
    out.push_back(std::to_string(visible) + " client-visible errors, more than " +
                  "--max-client-errors " + std::to_string(t.max_client_errors));
  std::map<std::string, uint64_t> hit;
  for (const auto& l : r.locations)
    for (const auto& f : l.failures)
      if (t.fail_on.count(f.cause)) hit[f.cause] += f.count;
  for (const auto& [cause, n] : hit)
    out.push_back(std::to_string(n) + " " + cause + " failures (--fail-on " + cause + ")");
  return out;
}

}  // namespace ngxwatch::gate
