// Checks run before anything is loaded, so that a missing prerequisite gives one
// clear line instead of a libbpf error dump.
#pragma once

#include <string>

namespace ngxwatch {

// Empty when the kernel has BTF; otherwise the one-line reason.
std::string check_kernel_btf(const std::string& path = "/sys/kernel/btf/vmlinux");

// Empty when the process may load and attach tracing programs.
std::string check_bpf_capabilities();

// Mounts tracefs at /sys/kernel/tracing when it is empty (classic tracepoints need
// it; tp_btf programs do not). Returns a warning, or empty.
std::string ensure_tracefs();

// True when the classic tracepoint exists (category/name under tracefs).
bool tracepoint_exists(const std::string& category, const std::string& name);

}  // namespace ngxwatch
