#include "gate/gate_report.h"

#include <algorithm>

namespace ngxwatch::gate {

uint64_t LocationReport::client_error_total() const {
  uint64_t n = 0;
  for (const auto& [status, count] : client_errors) n += count;
  return n;
}

uint64_t GateReport::client_error_total() const {
  uint64_t n = 0;
  for (const auto& l : locations) n += l.client_error_total();
  return n;
}

LocationReport& GateReport::location(const std::string& server, const std::string& location) {
  auto it = std::lower_bound(locations.begin(), locations.end(), std::make_pair(server, location),
                             [](const LocationReport& l, const auto& key) {
                               return std::make_pair(l.server, l.location) < key;
                             });
  if (it != locations.end() && it->server == server && it->location == location) return *it;
  LocationReport fresh;
  fresh.server = server;
  fresh.location = location;
  return *locations.insert(it, std::move(fresh));
}

}  // namespace ngxwatch::gate
