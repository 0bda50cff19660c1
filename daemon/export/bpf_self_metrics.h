// What ngxwatch's own BPF programs cost, from the kernel's bpf_prog_info at scrape
// time: ngxwatch_bpf_run_time_seconds_total{program} and ngxwatch_bpf_runs_total
// {program} (non-zero only while kernel.bpf_stats_enabled=1, which itself costs
// ~100 ns per run), and ngxwatch_bpf_verified_instructions{program}.
#pragma once

#include <prometheus/collectable.h>

#include <functional>
#include <vector>

#include "source/bpf_loader.h"

namespace ngxwatch {

class BpfSelfMetrics : public prometheus::Collectable {
 public:
  using Source = std::function<std::vector<ProgramInfo>()>;
  explicit BpfSelfMetrics(Source source) : source_(std::move(source)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  Source source_;
};

// The families for these programs (pure: unit-tested).
std::vector<prometheus::MetricFamily> bpf_self_families(const std::vector<ProgramInfo>& programs);

}  // namespace ngxwatch
