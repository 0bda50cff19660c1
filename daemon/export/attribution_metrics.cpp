#include "export/attribution_metrics.h"

#include <prometheus/metric_family.h>

namespace ngxwatch {

namespace {

prometheus::ClientMetric value(double v, prometheus::MetricType type,
                               std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (type == prometheus::MetricType::Counter)
    m.counter.value = v;
  else
    m.gauge.value = v;
  return m;
}

}  // namespace

std::vector<prometheus::MetricFamily> AttributionMetrics::Collect() const {
  using prometheus::MetricType;
  auto n = [](const std::atomic<uint64_t>& a) { return static_cast<double>(a.load()); };
  std::vector<prometheus::MetricFamily> out;
  out.push_back({"ngxwatch_events_awaiting_config",
                 "Events of nginx processes held until their master's configuration is read",
                 MetricType::Gauge,
                 {value(n(stats_->waiting), MetricType::Gauge)}});
  out.push_back({"ngxwatch_events_awaited_config_total",
                 "Events held until their master's configuration was read (a new master or "
                 "worker)",
                 MetricType::Counter,
                 {value(n(stats_->held), MetricType::Counter)}});
  const char* help =
      "Events attributed without their master's configuration, by why: they carry "
      "location=\"(unknown)\" unless exactly one nginx master runs";
  out.push_back(
      {"ngxwatch_events_unattributed_total",
       help,
       MetricType::Counter,
       {value(n(stats_->unreadable), MetricType::Counter, {{"reason", "config_unreadable"}}),
        value(n(stats_->timed_out), MetricType::Counter, {{"reason", "wait_timeout"}}),
        value(n(stats_->overflowed), MetricType::Counter, {{"reason", "wait_full"}})}});
  return out;
}

}  // namespace ngxwatch
