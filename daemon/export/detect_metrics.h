// The detectors' Prometheus families. The event loop copies detector state in with
// update() (every batch); scrapes read the registry on the exposer's thread.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "detect/detectors.h"

namespace ngxwatch {

class DetectMetrics : public prometheus::Collectable {
 public:
  DetectMetrics();
  void update(const Detectors& d);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>& storm_active_;
  prometheus::Family<prometheus::Counter>& storm_requests_;
  prometheus::Family<prometheus::Counter>& spooled_;
  prometheus::Family<prometheus::Gauge>& free_;
  prometheus::Family<prometheus::Gauge>& eta_;
  prometheus::Family<prometheus::Gauge>& ratio_;
  prometheus::Family<prometheus::Gauge>& findings_;
  // Counters only move forward: the value already exported per series.
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> exported_;
};

}  // namespace ngxwatch
