#include "source/bpf_object.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

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

BpfObject::~BpfObject() {
  for (bpf_link* l : links_) bpf_link__destroy(l);
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

unsigned BpfObject::verified_insns(const std::string& prog) const {
  return stats(prog).verified_insns;
}

}  // namespace ngxwatch
