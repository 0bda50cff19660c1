// Per-second event counts over the last minute, for rates over 1 s / 10 s / 60 s and
// the 60-point sparkline of `top`. Fixed memory: a ring of second buckets tagged with
// the second they hold, so a quiet stretch needs no sweeping.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ngxwatch {

class RollingCounter {
 public:
  static constexpr int kSeconds = 60;

  void add(int64_t second, uint64_t n = 1);
  // Events in the `seconds` complete seconds before `now_second`, per second. Complete
  // seconds only: a window ending mid-second would make the 1 s rate saw-tooth.
  double rate(int64_t now_second, int seconds) const;
  // kSeconds counts, oldest first, ending with the last complete second.
  std::vector<uint64_t> history(int64_t now_second) const;
  uint64_t total() const { return total_; }

 private:
  uint64_t at(int64_t second) const;
  // One spare slot so the current (partial) second never overwrites the oldest one.
  static constexpr int kSlots = kSeconds + 4;
  std::array<uint64_t, kSlots> counts_{};
  std::array<int64_t, kSlots> tags_{};
  uint64_t total_ = 0;
};

}  // namespace ngxwatch
