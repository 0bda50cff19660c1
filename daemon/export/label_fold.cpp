#include "export/label_fold.h"

namespace ngxwatch {

namespace {
// A challenger must be this much busier than the quietest kept value to replace it.
constexpr double kMargin = 1.5;
}  // namespace

void LabelFold::decay() {
  for (auto& [value, s] : scores_) s.recent /= 2;
}

bool LabelFold::kept(const std::string& value) const {
  auto it = scores_.find(value);
  return it != scores_.end() && it->second.kept;
}

std::string LabelFold::label(const std::string& value) {
  if (value.empty()) return value;
  if (++seen_ % window_ == 0) decay();
  Score& s = scores_[value];
  s.recent += 1;
  if (s.kept) return value;
  if (kept_ < max_) {
    s.kept = true;
    ++kept_;
    return value;
  }
  // The quietest kept value: a scan, but only for values that are folded now, and
  // those are the rare ones once the busiest are kept.
  Score* quietest = nullptr;
  for (auto& [v, k] : scores_)
    if (k.kept && (!quietest || k.recent < quietest->recent)) quietest = &k;
  if (!quietest || s.recent < quietest->recent * kMargin + 1) return kOther;
  quietest->kept = false;
  s.kept = true;
  return value;
}

}  // namespace ngxwatch
