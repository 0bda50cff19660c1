// Bounded label cardinality (DESIGN.md, Exported surface): of the values one label
// takes (locations), the busiest N by recent rate keep their own label and the rest
// fold into "(other)". "Recent" counts observations, not seconds: every `window`
// observations all scores halve, so the fold decides the same on a replay at any speed.
// A value that becomes busier than the quietest kept one (by a margin, so two close
// values do not swap back and forth) takes its place; the one it displaces folds from
// then on (the series it already has keep their counts, as Prometheus counters must).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace ngxwatch {

class LabelFold {
 public:
  static constexpr const char* kOther = "(other)";

  explicit LabelFold(size_t max_kept, uint64_t window = 1000) : max_(max_kept), window_(window) {}
  void set_max(size_t n) { max_ = n; }

  // The label to count one observation of `value` under; "" stays "".
  std::string label(const std::string& value);
  bool kept(const std::string& value) const;
  size_t kept_count() const { return kept_; }

 private:
  struct Score {
    double recent = 0;  // observations, halved every `window_` observations
    bool kept = false;
  };
  void decay();

  size_t max_;
  uint64_t window_;
  uint64_t seen_ = 0;
  size_t kept_ = 0;
  // Every value seen: the config bounds them (its locations), the fold bounds labels.
  std::unordered_map<std::string, Score> scores_;
};

}  // namespace ngxwatch
