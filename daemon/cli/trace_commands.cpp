#include "cli/trace_commands.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <iostream>

#include "correlate/trace_replay.h"
#include "detect/detector_replay.h"
#include "export/failure_log.h"
#include "export/summary.h"
#include "source/trace_file.h"

namespace ngxwatch {

int record_trace(const RecordOptions& opts) {
  const std::atomic<bool>& stop = install_stop_signals();
  std::unique_ptr<TraceWriter> writer;
  std::string error;
  // The ring is read only by session->run(), after the writer is open (the snapshot
  // that goes in its header is loaded by open()): every record finds the writer.
  auto session = KernelSession::open(
      opts.session, [&](std::span<const uint8_t> bytes) { writer->write(bytes); }, nullptr, &error);
  if (!session) {
    spdlog::error("{}", error);
    return 1;
  }
  writer = std::make_unique<TraceWriter>(opts.output, session->configs().current()->snapshot);
  if (!writer->ok()) {
    spdlog::error("cannot record: {}", writer->error());
    return 1;
  }
  spdlog::info("recording to {} (Ctrl-C to stop)", opts.output);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(opts.duration_s);
  std::atomic<bool> done{false};
  // Every master that runs while recording (nginx started after `record`, restarted
  // or reloaded during it) goes into the trace: analyze and suggest --trace need it.
  TraceSnapshot seen = session->configs().current()->snapshot;
  uint64_t version = session->configs().version();
  std::string err = session->run(done, [&] {
    if (session->configs().version() != version) {
      version = session->configs().version();
      const TraceSnapshot& now = session->configs().current()->snapshot;
      for (const auto& [master, text] : now.configs) seen.configs[master] = text;
      for (const auto& [pid, master] : now.masters) seen.masters[pid] = master;
    }
    if (stop.load() || (opts.duration_s > 0 && std::chrono::steady_clock::now() >= deadline))
      done.store(true);
  });
  uint64_t n = writer->records();
  if (!writer->close(seen)) err = writer->error();
  if (!err.empty()) {
    spdlog::error("{}", err);
    return 1;
  }
  spdlog::info("recorded {} events to {}", n, opts.output);
  return 0;
}

int analyze_trace(const AnalyzeOptions& opts) {
  Summary summary;
  Detectors detectors(&summary, /*live=*/false);
  ReplayResult r = replay_with_detectors(opts.input, summary, detectors);
  summary.set_findings(detectors.findings());
  if (!r.error.empty()) {
    spdlog::error("{}", r.error);
    return 1;
  }
  std::cout << (opts.json ? summary.json(r.events, r.bad_records) : summary.text());
  if (r.bad_records) spdlog::warn("{} malformed records skipped", r.bad_records);
  return 0;
}

}  // namespace ngxwatch
