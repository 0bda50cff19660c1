#include "source/bpf_object.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>

#include <cerrno>
#include <cstdarg>
#include <cstring>

namespace ngxwatch {

namespace {

// libbpf's print callback is process-wide: while an object loads, its lines also go
// to this log so that a rejection can be reported in one line.
thread_local LoadLog* g_load_log = nullptr;

int libbpf_print(enum libbpf_print_level level, const char* fmt, va_list args) {
  // A verifier log is one message of many kilobytes: format it whole.
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  std::string line(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) vsnprintf(line.data(), line.size() + 1, fmt, args);
  if (g_load_log) g_load_log->add(line);
  while (!line.empty() && line.back() == '\n') line.pop_back();
  // Warnings during a load are summarised by the caller; the full text is debug.
  if (level == LIBBPF_WARN && !g_load_log)
    spdlog::warn("libbpf: {}", line);
  else if (level != LIBBPF_DEBUG)
    spdlog::debug("libbpf: {}", line);
  else
    spdlog::trace("libbpf: {}", line);
  return n;
}

struct LogScope {
  explicit LogScope(LoadLog* log) { g_load_log = log; }
  ~LogScope() { g_load_log = nullptr; }
};

bool is_internal(const bpf_map* m) {
  // .rodata, .bss, .data, .kconfig: per object, never shared.
  return bpf_map__name(m)[0] == '.' || std::strchr(bpf_map__name(m), '.') != nullptr;
}

}  // namespace

SharedMaps::~SharedMaps() {
  for (auto& [name, fd] : fds_) close(fd);
}

int SharedMaps::fd(const std::string& name) const {
  auto it = fds_.find(name);
  return it == fds_.end() ? -1 : it->second;
}

void SharedMaps::adopt(const std::string& name, int fd) {
  if (fds_.count(name) || fd < 0) return;
  int copy = dup(fd);
  if (copy >= 0) fds_[name] = copy;
}

std::unique_ptr<BpfObject> BpfObject::open(const std::string& name, ElfBytesFn elf,
                                           std::string* error) {
  libbpf_set_print(libbpf_print);
  size_t size = 0;
  const void* bytes = elf(&size);
  LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name.c_str());
  bpf_object* obj = bpf_object__open_mem(bytes, size, &opts);
  if (!obj) {
    *error = "cannot open BPF object " + name + ": " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<BpfObject>(new BpfObject(name, obj));
}

namespace {

constexpr const char* kKprobeEvents = "/sys/kernel/tracing/kprobe_events";

bool write_kprobe_events(const std::string& line) {
  int fd = open(kKprobeEvents, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  close(fd);
  return ok;
}

}  // namespace

BpfObject::~BpfObject() {
  for (bpf_link* l : links_) bpf_link__destroy(l);
  for (const std::string& e : kprobe_events_) write_kprobe_events("-:kprobes/" + e + "\n");
  bpf_object__close(obj_);
}

bpf_program* BpfObject::program(const std::string& prog) const {
  return bpf_object__find_program_by_name(obj_, prog.c_str());
}

bool BpfObject::has_program(const std::string& prog) const { return program(prog) != nullptr; }

void BpfObject::enable_only(const std::set<std::string>& enabled) {
  bpf_program* p;
  bpf_object__for_each_program(p, obj_) {
    bpf_program__set_autoload(p, enabled.count(bpf_program__name(p)) > 0);
  }
}

bool BpfObject::set_rodata_u32(const std::string& var, unsigned value) {
  const btf* b = bpf_object__btf(obj_);
  bpf_map* rodata = nullptr;
  bpf_map* m;
  bpf_object__for_each_map(m, obj_) {
    if (std::strstr(bpf_map__name(m), ".rodata")) rodata = m;
  }
  if (!b || !rodata) return false;
  int sec = btf__find_by_name_kind(b, ".rodata", BTF_KIND_DATASEC);
  if (sec < 0) return false;
  const btf_type* t = btf__type_by_id(b, sec);
  const btf_var_secinfo* vs = btf_var_secinfos(t);
  size_t size = 0;
  const auto* initial = static_cast<const char*>(bpf_map__initial_value(rodata, &size));
  if (!initial) return false;
  std::vector<char> data(initial, initial + size);
  for (unsigned i = 0; i < btf_vlen(t); ++i, ++vs) {
    const btf_type* v = btf__type_by_id(b, vs->type);
    if (var != btf__name_by_offset(b, v->name_off)) continue;
    if (vs->size != sizeof(uint32_t) || vs->offset + sizeof(uint32_t) > size) return false;
    uint32_t v32 = value;
    std::memcpy(data.data() + vs->offset, &v32, sizeof(v32));
    return bpf_map__set_initial_value(rodata, data.data(), data.size()) == 0;
  }
  return false;
}

void BpfObject::set_map_size(const std::string& map, unsigned max_entries) {
  if (bpf_map* m = bpf_object__find_map_by_name(obj_, map.c_str()))
    bpf_map__set_max_entries(m, max_entries);
}

bool BpfObject::load(SharedMaps& shared, LoadFailure* failure, std::string* error) {
  bpf_map* m;
  bpf_object__for_each_map(m, obj_) {
    if (is_internal(m)) continue;
    int fd = shared.fd(bpf_map__name(m));
    if (fd >= 0 && bpf_map__reuse_fd(m, fd) != 0) {
      *error = name_ + ": cannot reuse map " + bpf_map__name(m) + ": " + std::strerror(errno);
      return false;
    }
  }
  LoadLog log;
  int err;
  {
    LogScope scope(&log);
    err = bpf_object__load(obj_);
  }
  if (err) {
    *failure = log.failure();
    *error = name_ + ": " + std::strerror(-err);
    return false;
  }
  bpf_object__for_each_map(m, obj_) {
    if (!is_internal(m)) shared.adopt(bpf_map__name(m), bpf_map__fd(m));
  }
  return true;
}

std::string BpfObject::attach(const std::string& prog) {
  bpf_program* p = program(prog);
  if (!p) return "no program " + prog;
  bpf_link* link = bpf_program__attach(p);
  if (!link) return std::string("attach failed: ") + std::strerror(errno);
  links_.push_back(link);
  return "";
}

// libbpf 1.1 cannot say how many calls a kretprobe may follow at once, and the kernel's
// default is the number of CPUs on kernels built without preemption (Debian 11's 5.10):
// every task inside the function holds one slot, so a client blocked in tcp_sendmsg
// uploading a body made every return of nginx's own calls "missed" (bytes undercounted,
// answers unseen). A tracefs-defined kretprobe takes maxactive; the program is attached
// to its perf event. Where tracefs refuses, libbpf's attach is the fallback.
std::string BpfObject::attach_kretprobe(const std::string& prog, const std::string& func,
                                        int maxactive) {
  bpf_program* p = program(prog);
  if (!p) return "no program " + prog;
  std::string event = "ngxwatch_" + std::to_string(getpid()) + "_" + func;
  std::string def = "r" + std::to_string(maxactive) + ":kprobes/" + event + " " + func + "\n";
  write_kprobe_events("-:kprobes/" + event + "\n");  // a leftover of a killed daemon
  unsigned long long id = 0;
  if (write_kprobe_events(def)) {
    kprobe_events_.push_back(event);
    std::ifstream("/sys/kernel/tracing/events/kprobes/" + event + "/id") >> id;
  }
  if (id == 0) {
    spdlog::debug("kretprobe {}: tracefs did not take maxactive {}; libbpf's default", func,
                  maxactive);
    return attach(prog);
  }
  perf_event_attr attr{};
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.size = sizeof(attr);
  attr.config = id;
  attr.sample_period = 1;
  attr.wakeup_events = 1;
  int pfd = static_cast<int>(syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC));
  if (pfd < 0) return std::string("perf_event_open of ") + event + ": " + std::strerror(errno);
  bpf_link* link = bpf_program__attach_perf_event(p, pfd);
  if (!link) {
    int err = errno;
    close(pfd);
    return std::string("attach failed: ") + std::strerror(err);
  }
  links_.push_back(link);  // the link owns pfd
  return "";
}

std::string BpfObject::attach_uprobe(const std::string& prog, const std::string& binary,
                                     const std::string& func, bool retprobe) {
  bpf_program* p = program(prog);
  if (!p) return "no program " + prog;
  LIBBPF_OPTS(bpf_uprobe_opts, o, .retprobe = retprobe, .func_name = func.c_str());
  bpf_link* link = bpf_program__attach_uprobe_opts(p, -1, binary.c_str(), 0, &o);
  if (!link) return binary + ": " + std::strerror(errno);
  links_.push_back(link);
  return "";
}

std::vector<std::string> BpfObject::loaded_programs() const {
  std::vector<std::string> out;
  bpf_program* p;
  bpf_object__for_each_program(p, obj_) {
    if (bpf_program__fd(p) >= 0) out.push_back(bpf_program__name(p));
  }
  return out;
}

BpfObject::Stats BpfObject::stats(const std::string& prog) const {
  bpf_program* p = program(prog);
  if (!p || bpf_program__fd(p) < 0) return {};
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len) != 0) return {};
  return {info.verified_insns, info.run_time_ns, info.run_cnt};
}

}  // namespace ngxwatch
