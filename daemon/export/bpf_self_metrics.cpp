#include "export/bpf_self_metrics.h"

#include <prometheus/metric_family.h>

namespace ngxwatch {

namespace {

prometheus::MetricFamily family(const char* name, const char* help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

prometheus::ClientMetric sample(const ProgramInfo& p, double value, bool counter) {
  prometheus::ClientMetric m;
  m.label = {{"program", p.program}};
  if (counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  return m;
}

}  // namespace

std::vector<prometheus::MetricFamily> bpf_self_families(const std::vector<ProgramInfo>& programs) {
  auto time = family("ngxwatch_bpf_run_time_seconds_total",
                     "Time ngxwatch's BPF program ran (while kernel.bpf_stats_enabled=1)",
                     prometheus::MetricType::Counter);
  auto runs = family("ngxwatch_bpf_runs_total",
                     "Runs of ngxwatch's BPF program (while kernel.bpf_stats_enabled=1)",
                     prometheus::MetricType::Counter);
  auto insns = family("ngxwatch_bpf_verified_instructions",
                      "Instructions the verifier processed for the program (its 1M limit "
                      "is what a larger program hits first)",
                      prometheus::MetricType::Gauge);
  for (const ProgramInfo& p : programs) {
    time.metric.push_back(sample(p, static_cast<double>(p.run_time_ns) / 1e9, true));
    runs.metric.push_back(sample(p, static_cast<double>(p.run_cnt), true));
    insns.metric.push_back(sample(p, p.verified_insns, false));
  }
  return {time, runs, insns};
}

std::vector<prometheus::MetricFamily> BpfSelfMetrics::Collect() const {
  return bpf_self_families(source_ ? source_() : std::vector<ProgramInfo>{});
}

}  // namespace ngxwatch
