#include "source/preflight.h"

#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ngxwatch {

namespace {

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

const char* tracefs_root() {
  if (exists("/sys/kernel/tracing/events")) return "/sys/kernel/tracing";
  if (exists("/sys/kernel/debug/tracing/events")) return "/sys/kernel/debug/tracing";
  return nullptr;
}

}  // namespace

std::string check_kernel_btf(const std::string& path) {
  if (exists(path)) return "";
  return "kernel BTF not found at " + path +
         ": ngxwatch needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (5.8 or newer)";
}

std::string check_bpf_capabilities() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &hdr, data) != 0) {
    return std::string("cannot read process capabilities: ") + std::strerror(errno);
  }
  auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1u; };
  if (has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON))) return "";
  return "missing capability: loading BPF programs needs CAP_BPF and CAP_PERFMON (or "
         "CAP_SYS_ADMIN); run as root or grant them (see systemd/ngxwatch.service)";
}

std::string ensure_tracefs() {
  if (tracefs_root()) return "";
  if (::mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr) == 0) return "";
  return std::string("tracefs is not mounted and mounting it at /sys/kernel/tracing failed (") +
         std::strerror(errno) + "): classic tracepoint fallbacks are unavailable";
}

bool tracepoint_exists(const std::string& category, const std::string& name) {
  const char* root = tracefs_root();
  return root && exists(std::string(root) + "/events/" + category + "/" + name);
}

}  // namespace ngxwatch
