#include "source/bpf_loader.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>

#include "ngxwatch.skel.h"
#include "source/nginx_binaries.h"
#include "source/preflight.h"

namespace ngxwatch {

namespace {

struct Hook {
  const char* name;
  const char* category;
  const char* btf_prog;
  const char* tp_prog;
  bool reset_probe;
};

constexpr Hook kHooks[] = {
    {"tcp_receive_reset", "tcp", "btf_receive_reset", "tp_receive_reset", true},
    {"tcp_send_reset", "tcp", "btf_send_reset", "tp_send_reset", true},
    {"inet_sock_set_state", "sock", "btf_set_state", "tp_set_state", false},
    // Byte counts and request capture; no classic twin (the classic record carries no
    // socket pointer we could key on), so older kernels run without capture.
    {"sock_send_length", "sock", "btf_send_length", nullptr, false},
    {"sock_recv_length", "sock", "btf_recv_length", nullptr, false},
    {"sched_process_fork", "sched", "btf_fork", "tp_fork", false},
    {"sched_process_exec", "sched", "btf_exec", "tp_exec", false},
    {"sched_process_exit", "sched", "btf_exit", "tp_exit", false},
};

int libbpf_to_spdlog(enum libbpf_print_level level, const char* fmt, va_list args) {
  char buf[1024];
  int n = vsnprintf(buf, sizeof(buf), fmt, args);
  std::string line(buf, n > 0 ? std::min<size_t>(n, sizeof(buf) - 1) : 0);
  while (!line.empty() && line.back() == '\n') line.pop_back();
  if (level == LIBBPF_WARN)
    spdlog::warn("libbpf: {}", line);
  else if (level == LIBBPF_INFO)
    spdlog::debug("libbpf: {}", line);
  else
    spdlog::trace("libbpf: {}", line);
  return n;
}

bool has_btf_tracepoint(const btf* vmlinux, const char* name) {
  if (!vmlinux) return false;
  std::string type = std::string("btf_trace_") + name;
  return btf__find_by_name_kind(vmlinux, type.c_str(), BTF_KIND_TYPEDEF) > 0;
}

}  // namespace

std::unique_ptr<BpfLoader> BpfLoader::load(const BpfOptions& opts, std::string* error) {
  libbpf_set_print(libbpf_to_spdlog);
  ngxwatch_bpf* skel = ngxwatch_bpf__open();
  if (!skel) {
    *error = std::string("cannot open the BPF object: ") + std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<BpfLoader> self(new BpfLoader(skel));
  bpf_map__set_max_entries(skel->maps.events, static_cast<__u32>(opts.ringbuf_bytes));
  skel->rodata->sample_per_sec = opts.sample_per_sec;

  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) spdlog::warn("cannot read kernel BTF; classic tracepoints only");
  std::string tracefs_warning = ensure_tracefs();
  if (!tracefs_warning.empty()) spdlog::warn("{}", tracefs_warning);

  for (const Hook& h : kHooks) {
    ProbeStatus st;
    st.name = h.name;
    bool wanted = opts.capture || (std::string(h.name) != "sock_send_length" &&
                                   std::string(h.name) != "sock_recv_length");
    bool use_btf = wanted && has_btf_tracepoint(vmlinux, h.name);
    bool use_tp = !use_btf && h.tp_prog && tracepoint_exists(h.category, h.name);
    st.style = use_btf ? "tp_btf" : use_tp ? "tp" : "";
    if (!use_btf && !use_tp)
      st.error =
          std::string("tracepoint ") + h.category + ":" + h.name + " does not exist on this kernel";
    bpf_program__set_autoload(bpf_object__find_program_by_name(skel->obj, h.btf_prog), use_btf);
    if (!wanted) st.error = "disabled by --no-capture";
    if (h.tp_prog)
      bpf_program__set_autoload(bpf_object__find_program_by_name(skel->obj, h.tp_prog), use_tp);
    self->probes_.push_back(st);
  }
  btf__free(vmlinux);

  int err = ngxwatch_bpf__load(skel);
  if (err) {
    *error = std::string("cannot load the BPF programs: ") + std::strerror(-err) +
             " (run with --log-level=debug for the verifier log)";
    return nullptr;
  }
  return self;
}

BpfLoader::~BpfLoader() {
  for (bpf_link* l : links_) bpf_link__destroy(l);
  ngxwatch_bpf__destroy(skel_);
}

void BpfLoader::attach() {
  for (size_t i = 0; i < std::size(kHooks); ++i) {
    ProbeStatus& st = probes_[i];
    if (st.style.empty()) {
      spdlog::warn("probe {} not attached: {}", st.name, st.error);
      continue;
    }
    const char* prog_name = st.style == "tp_btf" ? kHooks[i].btf_prog : kHooks[i].tp_prog;
    bpf_program* prog = bpf_object__find_program_by_name(skel_->obj, prog_name);
    bpf_link* link = bpf_program__attach(prog);
    if (!link) {
      st.error = std::string("attach failed: ") + std::strerror(errno);
      spdlog::warn("probe {} ({}) not attached: {}", st.name, st.style, st.error);
      continue;
    }
    links_.push_back(link);
    st.attached = true;
    spdlog::debug("probe {} attached as {}", st.name, st.style);
  }
  attach_temp_uprobes();
}

void BpfLoader::attach_temp_uprobes() {
  // See the comment above temp_write_enter in bpf/ngxwatch.bpf.c for why a uprobe.
  ProbeStatus st;
  st.name = "ngx_write_chain_to_temp_file";
  st.style = "uprobe";
  for (const std::string& binary : find_nginx_binaries()) {
    bool ok = true;
    for (bool ret : {false, true}) {
      LIBBPF_OPTS(bpf_uprobe_opts, o, .retprobe = ret, .func_name = "ngx_write_chain_to_temp_file");
      bpf_program* prog = ret ? skel_->progs.temp_write_exit : skel_->progs.temp_write_enter;
      bpf_link* link = bpf_program__attach_uprobe_opts(prog, -1, binary.c_str(), 0, &o);
      if (!link) {
        ok = false;
        st.error = binary + ": " + std::strerror(errno) +
                   " (no ngx_write_chain_to_temp_file symbol? temp-file bytes not seen)";
        break;
      }
      links_.push_back(link);
    }
    if (ok) spdlog::debug("temp-file uprobe attached to {}", binary);
    st.attached = st.attached || ok;
  }
  if (!st.attached) {
    if (st.error.empty()) st.error = "no nginx binary found";
    spdlog::warn("probe {} not attached: {}", st.name, st.error);
  }
  probes_.push_back(st);
}

bool BpfLoader::any_reset_probe_attached() const {
  for (size_t i = 0; i < std::size(kHooks); ++i)
    if (kHooks[i].reset_probe && probes_[i].attached) return true;
  return false;
}

int BpfLoader::map_fd(const char* name) const {
  bpf_map* m = bpf_object__find_map_by_name(skel_->obj, name);
  return m ? bpf_map__fd(m) : -1;
}

void BpfLoader::set_seeds_pending(unsigned n) { skel_->bss->seeds_pending = n; }

}  // namespace ngxwatch
