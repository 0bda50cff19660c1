// Everything `run` and `record` share: preflight checks, the BPF programs, the nginx
// process tracker (with each master's configuration) and the ring-buffer loop.
// RAII: destroying it stops the tracker and detaches every probe.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "host/master_config.h"
#include "host/process_tracker.h"
#include "source/bpf_loader.h"
#include "source/kernel_maps.h"
#include "source/ring_reader.h"

namespace ngxwatch {

struct SessionOptions {
  unsigned ringbuf_mib = 4;
  unsigned conn_table_entries = 65536;
  std::string capture_backend = "auto";  // see CaptureChoice
  unsigned sample_per_sec = 1000;        // see BpfOptions
  unsigned scan_interval_ms = 1000;
  unsigned keep_exited_config_s = 3600;  // an exited master's config stays for suggest
};

class KernelSession {
 public:
  using RecordFn = std::function<void(std::span<const uint8_t>)>;
  using SnapshotFn = std::function<void(const NginxSnapshot&)>;

  // Preflight, load, attach, first /proc scan. nullptr and *error (one line) on failure.
  static std::unique_ptr<KernelSession> open(const SessionOptions& opts, RecordFn on_record,
                                             SnapshotFn on_snapshot, std::string* error);
  ~KernelSession();

  // Polls the ring buffer until `stop` is set (SIGINT/SIGTERM); `each_batch` runs
  // after every poll (config swaps, watchdog). Returns "" or an error line.
  std::string run(const std::atomic<bool>& stop, const std::function<void()>& each_batch);

  const std::vector<ProbeStatus>& probes() const { return bpf_->probes(); }
  const BpfLoader& bpf() const { return *bpf_; }
  const KernelMaps& maps() const { return maps_; }
  ConfigRegistry& configs() { return configs_; }
  void set_scan_interval(std::chrono::milliseconds interval) { tracker_->set_interval(interval); }

 private:
  KernelSession() = default;
  std::unique_ptr<BpfLoader> bpf_;
  KernelMaps maps_;
  ConfigRegistry configs_;
  SnapshotFn on_snapshot_;
  std::unique_ptr<ProcessTracker> tracker_;
  std::unique_ptr<RingReader> ring_;
};

// Installs SIGINT/SIGTERM handlers that set the returned flag, and SIGHUP's.
const std::atomic<bool>& install_stop_signals();
// True once after each SIGHUP.
bool take_reload_request();

}  // namespace ngxwatch
