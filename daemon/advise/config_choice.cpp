#include "advise/config_choice.h"

namespace ngxwatch::advise {

size_t most_measured(const Measurements& m, const std::vector<const NginxConfigView*>& candidates) {
  size_t best = candidates.size();
  size_t best_hits = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    size_t hits = 0;
    if (candidates[i] != nullptr)
      for (const auto& [key, unused] : m.locations())
        hits += candidates[i]->location_of(Place{"", key.first, key.second}) != nullptr;
    if (best == candidates.size() || hits > best_hits) {
      best = i;
      best_hits = hits;
    }
  }
  return best;
}

}  // namespace ngxwatch::advise
