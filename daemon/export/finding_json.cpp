#include "export/finding_json.h"

namespace ngxwatch {

nlohmann::json finding_json(const Finding& f) {
  return {
      {"kind", f.kind},           {"severity", f.severity},       {"upstream", f.place.upstream},
      {"server", f.place.server}, {"location", f.place.location}, {"subject", f.subject},
      {"active", f.active},       {"onset_ns", f.onset_ns},       {"evidence", f.evidence},
      {"numbers", f.numbers}};
}

nlohmann::json findings_json(const std::vector<Finding>& findings) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : findings) out.push_back(finding_json(f));
  return out;
}

}  // namespace ngxwatch
