#include "advise/config_choice.h"

#include <functional>

namespace ngxwatch::advise {

namespace {

// Measured (server, location) pairs the view names.
size_t hits(const Measurements& m, const NginxConfigView& view) {
  size_t n = 0;
  for (const auto& [key, unused] : m.locations())
    n += view.location_of(Place{"", key.first, key.second}) != nullptr;
  return n;
}

size_t best_of(const std::vector<const NginxConfigView*>& candidates,
               const std::function<size_t(const NginxConfigView&)>& score) {
  size_t best = candidates.size();
  size_t best_hits = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    size_t n = candidates[i] != nullptr ? score(*candidates[i]) : 0;
    if (best == candidates.size() || n > best_hits) {
      best = i;
      best_hits = n;
    }
  }
  return best;
}

}  // namespace

size_t most_measured(const Measurements& m, const std::vector<const NginxConfigView*>& candidates) {
  return best_of(candidates, [&](const NginxConfigView& v) { return hits(m, v); });
}

const Measurements& measurements_of(const MeasurementsByNginx& m, const NginxConfigView& view) {
  static const Measurements none;
  auto it = m.find(view.instance());
  return it != m.end() ? it->second : none;
}

size_t most_measured(const MeasurementsByNginx& m,
                     const std::vector<const NginxConfigView*>& candidates) {
  return best_of(candidates,
                 [&](const NginxConfigView& v) { return hits(measurements_of(m, v), v); });
}

}  // namespace ngxwatch::advise
