#include "api/rolling_counter.h"

namespace ngxwatch {

namespace {

std::size_t slot(int64_t second, std::size_t slots) {
  auto m = second % static_cast<int64_t>(slots);
  return static_cast<std::size_t>(m < 0 ? m + static_cast<int64_t>(slots) : m);
}

}  // namespace

void RollingCounter::add(int64_t second, uint64_t n) {
  std::size_t i = slot(second, kSlots);
  if (tags_[i] != second || counts_[i] == 0) {
    tags_[i] = second;
    counts_[i] = 0;
  }
  counts_[i] += n;
  total_ += n;
}

uint64_t RollingCounter::at(int64_t second) const {
  std::size_t i = slot(second, kSlots);
  return tags_[i] == second ? counts_[i] : 0;
}

double RollingCounter::rate(int64_t now_second, int seconds) const {
  if (seconds <= 0) return 0;
  uint64_t sum = 0;
  for (int k = 1; k <= seconds && k <= kSeconds; ++k) sum += at(now_second - k);
  return static_cast<double>(sum) / seconds;
}

std::vector<uint64_t> RollingCounter::history(int64_t now_second) const {
  std::vector<uint64_t> out;
  out.reserve(kSeconds);
  for (int k = kSeconds; k >= 1; --k) out.push_back(at(now_second - k));
  return out;
}

}  // namespace ngxwatch
