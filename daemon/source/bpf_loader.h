// Loads the daemon's BPF objects, one per concern, and attaches them: resets and
// socket state are required; process tracking, temp-file uprobes and request capture
// each load on their own, and a program the verifier rejects is disabled (its object
// reloaded without it) with one log line and ngxwatch_probe_attached=0 — never the
// daemon. Capture picks the cheapest backend this kernel offers (fentry -> kprobe ->
// tracepoint). RAII: every link, map and object goes away with the loader.
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "source/bpf_object.h"
#include "source/capture_backend.h"

namespace ngxwatch {

struct ObjectSpec;
struct BackendSpec;

struct ProbeStatus {
  std::string name;   // the `probe` label: tracepoint, kernel function or uprobe
  std::string style;  // "tp_btf", "tp", "fentry", "kprobe", "uprobe"; "" when none
  bool attached = false;
  std::string error;
};

// A feature an optional object serves, and whether this kernel gave it.
struct FeatureStatus {
  std::string name;  // "request_capture", "process_tracking", "temp_files"
  bool available = false;
  std::string why;  // when unavailable
};

struct ProgramInfo {
  std::string object, program;
  unsigned verified_insns = 0;
  uint64_t run_time_ns = 0, run_cnt = 0;  // kernel.bpf_stats_enabled=1 only
};

struct BpfOptions {
  size_t ringbuf_bytes = 4u << 20;
  // Request capture: attribution to locations and phases. None leaves the reset,
  // state and process hooks only (cheapest mode).
  CaptureChoice capture = CaptureChoice::Auto;
  // Client requests per second per CPU reported in full; above it every stride-th one
  // is (weighted), and the others reach user space only if they fail. 0: all.
  unsigned sample_per_sec = 0;
  // Entries of the connection table (an LRU: the least recently used connection is
  // evicted when it is full; counted in ngxwatch_kernel_map_evictions_total).
  unsigned conn_table_entries = 65536;
};

class BpfLoader {
 public:
  // Loads and attaches everything this kernel allows. nullptr and *error (one line)
  // only when a required object (resets, socket state) cannot run.
  static std::unique_ptr<BpfLoader> load(const BpfOptions& opts, std::string* error);
  ~BpfLoader();
  BpfLoader(const BpfLoader&) = delete;
  BpfLoader& operator=(const BpfLoader&) = delete;

  const std::vector<ProbeStatus>& probes() const { return probes_; }
  const std::vector<FeatureStatus>& features() const { return features_; }
  // The capture backend in use, "" when none.
  const std::string& capture_backend() const { return capture_backend_; }
  std::vector<ProgramInfo> programs() const;
  bool any_reset_probe_attached() const;

  int map_fd(const char* name) const { return shared_.fd(name); }
  int ringbuf_fd() const { return map_fd("events"); }
  void set_seeds_pending(unsigned n);

 private:
  BpfLoader() = default;
  bool load_hooks(const ObjectSpec& spec, std::string* error);
  void load_capture(const BpfOptions& opts);
  bool try_capture(const BackendSpec& b, const BpfOptions& opts, std::string* why);
  void attach_temp_uprobes();
  void set_feature(const std::string& name, bool ok, const std::string& why);

  SharedMaps shared_;  // declared first: destroyed after the objects that use it
  std::vector<std::unique_ptr<BpfObject>> objects_;
  std::vector<ProbeStatus> probes_;
  std::vector<FeatureStatus> features_;
  std::string capture_backend_;
  BpfObject* temp_files_ = nullptr;
  size_t ringbuf_bytes_ = 0;
  unsigned conn_entries_ = 65536;
};

// {"capture_backend": "fentry", "unavailable": ["temp_files: why", ...]} for the API.
nlohmann::json kernel_summary(const BpfLoader& bpf);

}  // namespace ngxwatch
