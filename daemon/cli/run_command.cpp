#include "cli/run_command.h"

#include <prometheus/exposer.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <cerrno>
#include <memory>

#include "common/net_format.h"
#include "correlate/correlator.h"
#include "correlate/reset_labels.h"
#include "export/failure_log.h"
#include "export/listen_check.h"
#include "export/metrics.h"
#include "proc/process_tracker.h"
#include "source/bpf_loader.h"
#include "source/event.h"
#include "source/kernel_maps.h"
#include "source/preflight.h"
#include "source/reset_reasons.h"
#include "source/ring_reader.h"

namespace ngxwatch {

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop.store(true); }

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int fail(const std::string& line) {
  spdlog::error("{}", line);
  return 1;
}

}  // namespace

int run_daemon(const RunOptions& opts) {
  if (auto e = check_kernel_btf(); !e.empty()) return fail(e);
  if (auto e = check_bpf_capabilities(); !e.empty()) return fail(e);
  if (auto e = check_listen_address(opts.listen); !e.empty()) return fail(e);

  BpfOptions bopts;
  bopts.ringbuf_bytes = static_cast<size_t>(opts.ringbuf_mib) << 20;
  std::string error;
  std::unique_ptr<BpfLoader> bpf = BpfLoader::load(bopts, &error);
  if (!bpf) return fail(error);

  KernelMaps maps(bpf->map_fd("counters"), bpf->map_fd("reset_totals"), bpf->map_fd("reset_lost"),
                  bpf->map_fd("nginx_pids"), bpf->map_fd("listeners"), bpf->map_fd("seeds"));
  auto metrics = std::make_shared<Metrics>();
  metrics->attach_kernel(maps);

  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(opts.listen);
  } catch (const std::exception& ex) {
    return fail("cannot listen on " + opts.listen + ": " + ex.what());
  }
  exposer->RegisterCollectable(metrics);

  // Attach before scanning /proc, so nothing nginx does between the scan and the
  // attach is missed.
  bpf->attach();
  metrics->set_probes(bpf->probes());
  if (!bpf->any_reset_probe_attached())
    return fail(
        "no TCP reset tracepoint could be attached (tcp:tcp_receive_reset, "
        "tcp:tcp_send_reset); nothing to watch");

  ProcessTracker tracker(maps, std::chrono::milliseconds(opts.scan_interval_ms),
                         [&](const NginxSnapshot& s) { metrics->set_workers(s.active_workers()); });
  bpf->set_seeds_pending(tracker.start());

  FailureLog failure_log;
  TeeSink tee({metrics.get(), &failure_log});
  Correlator correlator(nullptr, &tee, ResetReasons::load());
  uint64_t bad_records = 0;
  RingReader ring(bpf->ringbuf_fd(), [&](std::span<const uint8_t> bytes) {
    DecodeResult r = decode_event(bytes);
    if (!r.ok) {
      if (bad_records++ < 5) spdlog::warn("dropping a malformed kernel record: {}", r.error);
      return;
    }
    if (std::holds_alternative<ngxw_proc_event>(r.event)) tracker.poke();
    correlator.on_event(r.event);
  });
  if (!ring.ok()) return fail("cannot open the BPF ring buffer");

  install_signal_handlers();
  spdlog::info("ngxwatch watching nginx; metrics on http://{}/metrics", opts.listen);
  while (!g_stop.load()) {
    int n = ring.poll(250);
    if (n < 0 && n != -EINTR) return fail("ring buffer poll failed: " + std::to_string(n));
  }
  spdlog::info("stopping: detaching probes");
  tracker.stop();
  return 0;
}

}  // namespace ngxwatch
