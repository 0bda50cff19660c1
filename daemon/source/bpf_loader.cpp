#include "source/bpf_loader.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <set>

#include "capture_fentry.skel.h"
#include "capture_fentry_noloop.skel.h"
#include "capture_kprobe.skel.h"
#include "capture_kprobe_noloop.skel.h"
#include "capture_tracepoint.skel.h"
#include "process.skel.h"
#include "resets.skel.h"
#include "socket_state.skel.h"
#include "source/nginx_binaries.h"
#include "source/preflight.h"
#include "temp_files.skel.h"

namespace ngxwatch {

// A tracepoint hook: the programs that can serve it, tp_btf preferred.
struct Hook {
  const char* probe;
  const char* category;
  const char* btf_prog;
  const char* tp_prog;  // classic twin, or nullptr
};

// An object of tracepoint hooks. `feature` empty: required (the daemon cannot run
// without it).
struct ObjectSpec {
  const char* name;
  ElfBytesFn elf;
  const char* feature;
  std::vector<Hook> hooks;
};

// A capture backend: every program must load and attach, or the next one is tried.
// `probes` pairs a probe label with the programs serving it.
struct BackendSpec {
  const char* name;
  std::vector<std::pair<const char*, ElfBytesFn>> variants;  // object name, bytes
  std::vector<std::pair<const char*, std::vector<const char*>>> probes;
};

namespace {

const ObjectSpec kResets{"resets",
                         ngxw_resets::elf_bytes,
                         "",
                         {{"tcp_receive_reset", "tcp", "btf_receive_reset", "tp_receive_reset"},
                          {"tcp_send_reset", "tcp", "btf_send_reset", "tp_send_reset"}}};
const ObjectSpec kState{"socket_state",
                        ngxw_socket_state::elf_bytes,
                        "",
                        {{"inet_sock_set_state", "sock", "btf_set_state", "tp_set_state"}}};
const ObjectSpec kProcess{"process",
                          ngxw_process::elf_bytes,
                          "process_tracking",
                          {{"sched_process_fork", "sched", "btf_fork", "tp_fork"},
                           {"sched_process_exec", "sched", "btf_exec", "tp_exec"},
                           {"sched_process_exit", "sched", "btf_exit", "tp_exit"}}};

const BackendSpec kFentry{"fentry",
                          {{"capture_fentry", ngxw_capture_fentry::elf_bytes},
                           {"capture_fentry_noloop", ngxw_capture_fentry_noloop::elf_bytes}},
                          {{"tcp_sendmsg", {"fentry_sendmsg", "fexit_sendmsg"}},
                           {"tcp_recvmsg", {"fentry_recvmsg", "fexit_recvmsg"}}}};
const BackendSpec kKprobe{"kprobe",
                          {{"capture_kprobe", ngxw_capture_kprobe::elf_bytes},
                           {"capture_kprobe_noloop", ngxw_capture_kprobe_noloop::elf_bytes}},
                          {{"tcp_sendmsg", {"kprobe_sendmsg", "kretprobe_sendmsg"}},
                           {"tcp_recvmsg", {"kprobe_recvmsg", "kretprobe_recvmsg"}}}};
const BackendSpec kTracepoint{
    "tracepoint",
    {{"capture_tracepoint", ngxw_capture_tracepoint::elf_bytes}},
    {{"sock_send_length", {"btf_send_length"}}, {"sock_recv_length", {"btf_recv_length"}}}};

struct VmlinuxBtf {
  VmlinuxBtf() : btf(btf__load_vmlinux_btf()) {}
  ~VmlinuxBtf() { btf__free(btf); }
  VmlinuxBtf(const VmlinuxBtf&) = delete;
  VmlinuxBtf& operator=(const VmlinuxBtf&) = delete;
  bool has_typedef(const std::string& name) const {
    return btf && btf__find_by_name_kind(btf, name.c_str(), BTF_KIND_TYPEDEF) > 0;
  }
  // Parameters of a kernel function, or -1 when BTF does not know it.
  int params_of(const char* func) const {
    if (!btf) return -1;
    int id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);
    if (id <= 0) return -1;
    const btf_type* proto = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
    return proto ? btf_vlen(proto) : -1;
  }
  struct btf* btf;
};

const VmlinuxBtf& vmlinux() {
  static VmlinuxBtf v;
  return v;
}

// "rejected by the verifier: <its last words>", or the load error when the verifier
// said nothing (the kernel refused the program type or attach point, e.g. EPERM).
// Calls of tcp_sendmsg/tcp_recvmsg of any task in flight at once that a kretprobe
// follows: the kernel's most (KRETPROBE_MAXACTIVE_MAX).
constexpr int kKretprobeMaxActive = 4096;

std::string rejection(const LoadFailure& f, const std::string& load_error) {
  std::string tail = one_line(f);
  return tail.empty() ? "cannot load: " + load_error : "rejected by the verifier: " + tail;
}

}  // namespace

std::unique_ptr<BpfLoader> BpfLoader::load(const BpfOptions& opts, std::string* error) {
  std::unique_ptr<BpfLoader> self(new BpfLoader());
  if (!vmlinux().btf) spdlog::warn("cannot read kernel BTF; classic tracepoints only");
  std::string tracefs_warning = ensure_tracefs();
  if (!tracefs_warning.empty()) spdlog::warn("{}", tracefs_warning);

  self->ringbuf_bytes_ = opts.ringbuf_bytes;
  self->conn_entries_ = opts.conn_table_entries;
  for (const ObjectSpec* spec : {&kResets, &kState, &kProcess})
    if (!self->load_hooks(*spec, error)) return nullptr;
  self->load_capture(opts);

  std::string temp_error;
  if (auto obj = BpfObject::open("temp_files", ngxw_temp_files::elf_bytes, &temp_error)) {
    LoadFailure f;
    if (obj->load(self->shared_, &f, &temp_error)) {
      self->temp_files_ = obj.get();
      self->objects_.push_back(std::move(obj));
    } else {
      temp_error = rejection(f, temp_error);
    }
  }
  if (!self->temp_files_) {
    spdlog::warn("temp-file uprobes unavailable: {}", temp_error);
    self->probes_.push_back({"ngx_write_chain_to_temp_file", "uprobe", false, temp_error});
    self->set_feature("temp_files", false, temp_error);
  } else {
    self->attach_temp_uprobes();
  }
  // The verifier's work per program: growth here is what fails on the next kernel.
  std::string sizes;
  for (const ProgramInfo& p : self->programs())
    sizes += (sizes.empty() ? "" : ", ") + p.program + " " + std::to_string(p.verified_insns);
  spdlog::info("BPF programs loaded (verified instructions): {}", sizes);
  return self;
}

BpfLoader::~BpfLoader() = default;

void BpfLoader::set_feature(const std::string& name, bool ok, const std::string& why) {
  features_.push_back({name, ok, ok ? "" : why});
}

// Loads spec's object with one program per hook (tp_btf, else the classic twin); a
// program the verifier rejects is replaced by its twin or dropped, and the object
// reloaded. Returns false only when a required object has no hook left.
bool BpfLoader::load_hooks(const ObjectSpec& spec, std::string* error) {
  bool required = spec.feature[0] == '\0';
  std::set<std::string> rejected;
  std::vector<ProbeStatus> status;
  std::unique_ptr<BpfObject> obj;
  std::string last_error;
  for (size_t attempt = 0; attempt <= 2 * spec.hooks.size(); ++attempt) {
    obj = BpfObject::open(spec.name, spec.elf, error);
    if (!obj) return false;
    obj->set_map_size("events", static_cast<unsigned>(ringbuf_bytes_));  // if it creates it
    obj->set_map_size("conns", conn_entries_);
    status.clear();
    std::set<std::string> enabled;
    for (const Hook& h : spec.hooks) {
      ProbeStatus st{h.probe, "", false, ""};
      bool btf_ok =
          vmlinux().has_typedef(std::string("btf_trace_") + h.probe) && !rejected.count(h.btf_prog);
      bool tp_ok =
          h.tp_prog && !rejected.count(h.tp_prog) && tracepoint_exists(h.category, h.probe);
      if (btf_ok) {
        st.style = "tp_btf";
        enabled.insert(h.btf_prog);
      } else if (tp_ok) {
        st.style = "tp";
        enabled.insert(h.tp_prog);
      } else if (rejected.count(h.btf_prog) || (h.tp_prog && rejected.count(h.tp_prog))) {
        st.error = last_error;
      } else {
        st.error = std::string("tracepoint ") + h.category + ":" + h.probe +
                   " does not exist on this kernel";
      }
      status.push_back(st);
    }
    if (enabled.empty()) {
      obj.reset();
      break;
    }
    obj->enable_only(enabled);
    LoadFailure f;
    std::string load_error;
    if (obj->load(shared_, &f, &load_error)) break;
    obj.reset();
    if (f.program.empty() || !enabled.count(f.program)) {
      last_error = load_error;
      status.clear();
      for (const Hook& h : spec.hooks) status.push_back({h.probe, "", false, load_error});
      break;
    }
    last_error = rejection(f, load_error);
    spdlog::warn("BPF program {} ({}.bpf.c) {}; loading {} without it", f.program, spec.name,
                 last_error, spec.name);
    rejected.insert(f.program);
  }
  size_t attached = 0;
  for (size_t i = 0; i < status.size(); ++i) {
    ProbeStatus& st = status[i];
    if (obj && !st.style.empty()) {
      const Hook& h = spec.hooks[i];
      st.error = obj->attach(st.style == "tp_btf" ? h.btf_prog : h.tp_prog);
      st.attached = st.error.empty();
    }
    if (st.attached) {
      ++attached;
      spdlog::debug("probe {} attached as {}", st.name, st.style);
    } else {
      spdlog::warn("probe {} not attached: {}", st.name, st.error);
    }
    probes_.push_back(st);
  }
  if (obj) objects_.push_back(std::move(obj));
  if (!required) {
    set_feature(spec.feature, attached == spec.hooks.size(), last_error);
    return true;
  }
  if (attached == 0) {
    *error = std::string("no program of ") + spec.name +
             ".bpf.c could run: " + (status.empty() ? last_error : status.front().error);
    return false;
  }
  return true;
}

bool BpfLoader::try_capture(const BackendSpec& b, const BpfOptions& opts, std::string* why) {
  std::set<std::string> progs;
  for (const auto& [probe, names] : b.probes) progs.insert(names.begin(), names.end());
  for (const auto& [object, elf] : b.variants) {
    std::string err;
    auto obj = BpfObject::open(object, elf, &err);
    if (!obj) return *why = err, false;
    obj->enable_only(progs);
    obj->set_rodata_u32("sample_per_sec", opts.sample_per_sec);
    if (int n = vmlinux().params_of("tcp_recvmsg"); n > 0) obj->set_rodata_u32("recvmsg_nargs", n);
    LoadFailure f;
    if (!obj->load(shared_, &f, &err)) {
      *why = f.program.empty() ? err : f.program + " " + rejection(f, err);
      spdlog::info("capture backend {} ({}): {}", b.name, object, *why);
      continue;  // the next variant may do without what this kernel refused
    }
    for (const auto& [probe, names] : b.probes) {
      for (const char* p : names) {
        bool kretprobe = std::string(p).rfind("kretprobe_", 0) == 0;
        std::string e =
            kretprobe ? obj->attach_kretprobe(p, probe, kKretprobeMaxActive) : obj->attach(p);
        if (!e.empty()) {
          *why = std::string(p) + ": " + e;
          return false;  // the same in every variant
        }
      }
    }
    for (const auto& [probe, names] : b.probes) probes_.push_back({probe, b.name, true, ""});
    objects_.push_back(std::move(obj));
    return true;
  }
  return false;
}

void BpfLoader::load_capture(const BpfOptions& opts) {
  if (opts.capture == CaptureChoice::None) {
    probes_.push_back({"request_capture", "", false, "disabled by --capture-backend none"});
    set_feature("request_capture", false, "disabled by --capture-backend none");
    return;
  }
  std::vector<const BackendSpec*> order;
  switch (opts.capture) {
    case CaptureChoice::Fentry:
      order = {&kFentry};
      break;
    case CaptureChoice::Kprobe:
      order = {&kKprobe};
      break;
    case CaptureChoice::Tracepoint:
      order = {&kTracepoint};
      break;
    default:
      order = {&kFentry, &kKprobe, &kTracepoint};
  }
  std::string tried;
  for (const BackendSpec* b : order) {
    std::string why;
    if (b == &kTracepoint && !vmlinux().has_typedef("btf_trace_sock_send_length")) {
      why = "sock:sock_send_length does not exist (Linux < 6.3)";
    } else if (b == &kFentry && vmlinux().params_of("tcp_sendmsg") < 0) {
      why = "no BTF for tcp_sendmsg";
    } else if (try_capture(*b, opts, &why)) {
      capture_backend_ = b->name;
      spdlog::info("capture backend: {} ({})", b->name,
                   opts.capture != CaptureChoice::Auto ? "chosen by --capture-backend"
                   : tried.empty()                     ? "cheapest this kernel offers"
                                                       : tried);
      set_feature("request_capture", true, "");
      return;
    }
    if (!tried.empty()) tried += "; ";
    tried += std::string(b->name) + " unavailable: " + why;
  }
  spdlog::warn("request capture unavailable (no location, phase or cause): {}", tried);
  probes_.push_back({"request_capture", "", false, tried});
  set_feature("request_capture", false, tried);
}

void BpfLoader::attach_temp_uprobes() {
  // See bpf/temp_files.bpf.c for why a uprobe.
  ProbeStatus st{"ngx_write_chain_to_temp_file", "uprobe", false, ""};
  for (const std::string& binary : find_nginx_binaries()) {
    bool ok = true;
    for (bool ret : {false, true}) {
      std::string e = temp_files_->attach_uprobe(ret ? "temp_write_exit" : "temp_write_enter",
                                                 binary, "ngx_write_chain_to_temp_file", ret);
      if (!e.empty()) {
        ok = false;
        st.error = e + " (no ngx_write_chain_to_temp_file symbol? temp-file bytes not seen)";
        break;
      }
    }
    if (ok) spdlog::debug("temp-file uprobe attached to {}", binary);
    st.attached = st.attached || ok;
  }
  if (!st.attached) {
    if (st.error.empty()) st.error = "no nginx binary found";
    spdlog::warn("probe {} not attached: {}", st.name, st.error);
  }
  set_feature("temp_files", st.attached, st.error);
  probes_.push_back(st);
}

std::vector<ProgramInfo> BpfLoader::programs() const {
  std::vector<ProgramInfo> out;
  for (const auto& obj : objects_)
    for (const std::string& p : obj->loaded_programs()) {
      BpfObject::Stats st = obj->stats(p);
      out.push_back({obj->name(), p, st.verified_insns, st.run_time_ns, st.run_cnt});
    }
  return out;
}

bool BpfLoader::any_reset_probe_attached() const {
  for (const ProbeStatus& p : probes_)
    if ((p.name == "tcp_receive_reset" || p.name == "tcp_send_reset") && p.attached) return true;
  return false;
}

nlohmann::json kernel_summary(const BpfLoader& bpf) {
  nlohmann::json unavailable = nlohmann::json::array();
  for (const FeatureStatus& f : bpf.features())
    if (!f.available) unavailable.push_back(f.name + ": " + f.why);
  return {{"capture_backend", bpf.capture_backend()}, {"unavailable", unavailable}};
}

void BpfLoader::set_seeds_pending(unsigned n) {
  int fd = map_fd("control");
  uint32_t key = 0;
  uint32_t value[2] = {n, 0};  // struct control {seeds_pending, next_slot}
  if (fd >= 0) bpf_map_update_elem(fd, &key, value, BPF_ANY);
}

}  // namespace ngxwatch
