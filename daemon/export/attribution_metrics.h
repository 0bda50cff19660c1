// What waited for its nginx master's configuration, and what had to go on without it
// (PendingEvents): read from its atomics at scrape time.
#pragma once

#include <prometheus/collectable.h>

#include <vector>

#include "correlate/pending_events.h"

namespace ngxwatch {

class AttributionMetrics : public prometheus::Collectable {
 public:
  // `stats` must outlive every scrape (the exposer is destroyed first).
  explicit AttributionMetrics(const PendingStats* stats) : stats_(stats) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const PendingStats* stats_;
};

}  // namespace ngxwatch
