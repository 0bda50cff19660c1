// The kernel's event clock (bpf_ktime_get_ns is CLOCK_MONOTONIC), for live ticks and
// for stamping what user space does so that it compares with event times.
#pragma once

#include <time.h>

#include <cstdint>

namespace ngxwatch {

inline uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace ngxwatch
