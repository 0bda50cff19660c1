#include "cli/trace_commands.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <iostream>

#include "correlate/correlator.h"
#include "detect/detectors.h"
#include "export/failure_log.h"
#include "correlate/nginx_config_view.h"
#include "export/summary.h"
#include "nginx/config_error.h"
#include "nginx/nginx_config.h"
#include "source/event.h"
#include "source/trace_file.h"

namespace ngxwatch {

int record_trace(const RecordOptions& opts) {
  std::unique_ptr<TraceWriter> writer;
  std::string error;
  // Records that arrive before nginx's configuration is known are held back: the
  // snapshot goes in the header, so the writer opens once the tracker has loaded it.
  std::vector<std::vector<uint8_t>> early;
  auto session = KernelSession::open(
      opts.session,
      [&](std::span<const uint8_t> bytes) {
        if (writer)
          writer->write(bytes);
        else if (early.size() < 100000)
          early.emplace_back(bytes.begin(), bytes.end());
      },
      nullptr, &error);
  if (!session) {
    spdlog::error("{}", error);
    return 1;
  }
  auto open_writer = [&] {
    writer = std::make_unique<TraceWriter>(opts.output, session->configs().current()->dump);
    if (!writer->ok()) return false;
    for (const auto& r : early) writer->write(r);
    early.clear();
    return true;
  };
  if (!open_writer()) {
    spdlog::error("cannot record: {}", writer->error());
    return 1;
  }
  spdlog::info("recording to {} (Ctrl-C to stop)", opts.output);
  const std::atomic<bool>& stop = install_stop_signals();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(opts.duration_s);
  std::atomic<bool> done{false};
  std::string err = session->run(done, [&] {
    if (stop.load() || (opts.duration_s > 0 && std::chrono::steady_clock::now() >= deadline))
      done.store(true);
  });
  uint64_t n = writer->records();
  if (!writer->close()) err = writer->error();
  if (!err.empty()) {
    spdlog::error("{}", err);
    return 1;
  }
  spdlog::info("recorded {} events to {}", n, opts.output);
  return 0;
}

namespace {

std::unique_ptr<NginxConfigView> view_of(const std::string& dump) {
  if (dump.empty()) return nullptr;
  try {
    return std::make_unique<NginxConfigView>(
        std::make_shared<nginx::Config>(nginx::load_from_dump(dump)));
  } catch (const std::exception& e) {
    spdlog::warn("the trace's nginx configuration does not load ({}); attributing by peer only",
                 e.what());
    return nullptr;
  }
}

}  // namespace

int analyze_trace(const AnalyzeOptions& opts) {
  TraceHeader header;
  std::unique_ptr<NginxConfigView> view;
  std::unique_ptr<SingleConfig> configs;
  Summary summary;
  Detectors detectors(&summary, /*live=*/false);
  TeeSink sinks({&summary, &detectors});
  std::unique_ptr<Correlator> correlator;
  uint64_t bad = 0, next_tick = 0;
  std::string err = read_trace(opts.input, header, [&](std::span<const uint8_t> r) {
    if (!correlator) {  // the header (with the config snapshot) is read by now
      view = view_of(header.config_text);
      configs = std::make_unique<SingleConfig>(view.get());
      correlator = std::make_unique<Correlator>(configs.get(), &sinks);
      detectors.set_configs(configs.get());
      detectors.set_place_of([&](uint64_t s) { return correlator->place_of(s); });
    }
    DecodeResult d = decode_event(r);
    if (!d.ok) {
      ++bad;
      return;
    }
    correlator->on_event(d.event);
    detectors.on_event(d.event);
    // Ticks in event time, as often as the live loop: the same verdicts on replay.
    uint64_t now = event_time_ns(d.event);
    if (now >= next_tick) {
      detectors.tick(now);
      next_tick = now + 250000000ull;
    }
  });
  summary.set_findings(detectors.findings());
  if (!err.empty()) {
    spdlog::error("{}", err);
    return 1;
  }
  uint64_t events = correlator ? correlator->stats().events : 0;
  std::cout << (opts.json ? summary.json(events, bad) : summary.text());
  if (bad) spdlog::warn("{} malformed records skipped", bad);
  return 0;
}

}  // namespace ngxwatch
