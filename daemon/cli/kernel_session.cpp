#include "cli/kernel_session.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cerrno>

#include "source/event.h"
#include "source/preflight.h"

namespace ngxwatch {

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

void on_signal(int sig) { (sig == SIGHUP ? g_reload : g_stop).store(true); }

}  // namespace

const std::atomic<bool>& install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return g_stop;
}

bool take_reload_request() { return g_reload.exchange(false); }

std::unique_ptr<KernelSession> KernelSession::open(const SessionOptions& opts, RecordFn on_record,
                                                   SnapshotFn on_snapshot, std::string* error) {
  if (auto e = check_kernel_btf(); !e.empty()) return *error = e, nullptr;
  if (auto e = check_bpf_capabilities(); !e.empty()) return *error = e, nullptr;

  std::unique_ptr<KernelSession> s(new KernelSession());
  BpfOptions bopts;
  bopts.ringbuf_bytes = static_cast<size_t>(opts.ringbuf_mib) << 20;
  bopts.capture = parse_capture_choice(opts.capture_backend).value_or(CaptureChoice::Auto);
  bopts.sample_per_sec = opts.sample_per_sec;
  bopts.conn_table_entries = opts.conn_table_entries;
  s->bpf_ = BpfLoader::load(bopts, error);
  if (!s->bpf_) return nullptr;
  BpfLoader& bpf = *s->bpf_;
  s->maps_ = KernelMaps(bpf.map_fd("counters"), bpf.map_fd("reset_totals"),
                        bpf.map_fd("reset_lost"), bpf.map_fd("nginx_pids"), bpf.map_fd("listeners"),
                        bpf.map_fd("seeds"), bpf.map_fd("conns"));

  // Loaded and attached before scanning /proc, so nothing nginx does between the scan
  // and the attach is missed.
  if (!bpf.any_reset_probe_attached()) {
    *error =
        "no TCP reset tracepoint could be attached (tcp:tcp_receive_reset, "
        "tcp:tcp_send_reset); nothing to watch";
    return nullptr;
  }
  KernelSession* self = s.get();
  // A new nginx master (or a reload's new workers) is read at once, not at the next
  // periodic scan: its first requests wait for that config (PendingEvents).
  auto record = [self, on_record = std::move(on_record)](std::span<const uint8_t> bytes) {
    if (is_proc_record(bytes) && self->tracker_) self->tracker_->poke();
    on_record(bytes);
  };
  s->ring_ = std::make_unique<RingReader>(bpf.ringbuf_fd(), std::move(record));
  if (!s->ring_->ok()) {
    *error = "cannot open the BPF ring buffer";
    return nullptr;
  }
  s->on_snapshot_ = std::move(on_snapshot);
  s->configs_.set_retention(std::chrono::seconds(opts.keep_exited_config_s));
  s->tracker_ =
      std::make_unique<ProcessTracker>(s->maps_, std::chrono::milliseconds(opts.scan_interval_ms),
                                       [self](const NginxSnapshot& snap) {
                                         self->configs_.update(snap);
                                         if (self->on_snapshot_) self->on_snapshot_(snap);
                                       });
  bpf.set_seeds_pending(s->tracker_->start());
  return s;
}

KernelSession::~KernelSession() {
  if (tracker_) tracker_->stop();
}

std::string KernelSession::run(const std::atomic<bool>& stop,
                               const std::function<void()>& each_batch) {
  while (!stop.load()) {
    int n = ring_->poll(250);
    if (n < 0 && n != -EINTR) return "ring buffer poll failed: " + std::to_string(n);
    if (each_batch) each_batch();
  }
  return "";
}

}  // namespace ngxwatch
