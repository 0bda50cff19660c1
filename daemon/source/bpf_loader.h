// Owns the BPF skeleton: opens it, picks tp_btf or classic tp per hook, loads it,
// attaches each program on its own (a missing tracepoint degrades one probe, not the
// daemon) and destroys everything on every exit path (RAII).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

struct ngxwatch_bpf;
struct bpf_link;

namespace ngxwatch {

struct ProbeStatus {
  std::string name;   // tracepoint name, the `probe` label
  std::string style;  // "tp_btf", "tp" or "" when neither exists
  bool attached = false;
  std::string error;
};

struct BpfOptions {
  size_t ringbuf_bytes = 4u << 20;
  // Request capture (sock_send_length/sock_recv_length): attribution to locations
  // and phases. Off leaves the reset/state/process hooks only (cheapest mode).
  bool capture = true;
  // Client requests per second per CPU reported in full; above it every stride-th one
  // is (weighted), and the others reach user space only if they fail. 0: all.
  unsigned sample_per_sec = 0;
};

class BpfLoader {
 public:
  // nullptr and *error set (one line) when the object cannot be opened or loaded.
  static std::unique_ptr<BpfLoader> load(const BpfOptions& opts, std::string* error);
  ~BpfLoader();
  BpfLoader(const BpfLoader&) = delete;
  BpfLoader& operator=(const BpfLoader&) = delete;

  // Attaches every loaded program; failures are recorded in probes().
  void attach();
  const std::vector<ProbeStatus>& probes() const { return probes_; }
  bool any_reset_probe_attached() const;

  int map_fd(const char* name) const;
  int ringbuf_fd() const { return map_fd("events"); }
  void set_seeds_pending(unsigned n);

 private:
  explicit BpfLoader(ngxwatch_bpf* skel) : skel_(skel) {}
  void attach_temp_uprobes();
  ngxwatch_bpf* skel_;
  std::vector<ProbeStatus> probes_;
  std::vector<bpf_link*> links_;
};

}  // namespace ngxwatch
