#include "nginx/units.h"

#include <limits>

namespace ngxwatch::nginx {

namespace {

constexpr uint64_t kMaxMs = std::numeric_limits<int64_t>::max() / 2;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<std::chrono::milliseconds> parse_time(std::string_view v) {
  if (v.empty()) return std::nullopt;
  uint64_t total = 0;
  size_t i = 0;
  // nginx requires units in decreasing order (y M w d h m s ms), each used once.
  int last_rank = 100;
  while (i < v.size()) {
    if (!is_digit(v[i])) return std::nullopt;
    uint64_t n = 0;
    while (i < v.size() && is_digit(v[i])) {
      n = n * 10 + static_cast<uint64_t>(v[i] - '0');
      if (n > kMaxMs) return std::nullopt;
      ++i;
    }
    uint64_t scale;
    int rank;
    if (i == v.size()) {
      scale = 1000;  // bare number: seconds
      rank = 1;
    } else if (v.substr(i, 2) == "ms") {
      scale = 1;
      rank = 0;
      i += 2;
    } else {
      switch (v[i]) {
        case 'y':
          scale = 365ull * 24 * 3600 * 1000;
          rank = 7;
          break;
        case 'M':
          scale = 30ull * 24 * 3600 * 1000;
          rank = 6;
          break;
        case 'w':
          scale = 7ull * 24 * 3600 * 1000;
          rank = 5;
          break;
        case 'd':
          scale = 24ull * 3600 * 1000;
          rank = 4;
          break;
        case 'h':
          scale = 3600ull * 1000;
          rank = 3;
          break;
        case 'm':
          scale = 60ull * 1000;
          rank = 2;
          break;
        case 's':
          scale = 1000;
          rank = 1;
          break;
        default:
          return std::nullopt;
      }
      ++i;
    }
    if (rank >= last_rank) return std::nullopt;
    last_rank = rank;
    if (n > kMaxMs / scale) return std::nullopt;
    total += n * scale;
    if (total > kMaxMs) return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total));
}

std::optional<uint64_t> parse_size(std::string_view v) {
  if (v.empty()) return std::nullopt;
  uint64_t scale = 1;
  char last = v.back();
  switch (last) {
    case 'k':
    case 'K':
      scale = 1024;
      break;
    case 'm':
    case 'M':
      scale = 1024 * 1024;
      break;
    case 'g':
    case 'G':
      scale = 1024ull * 1024 * 1024;
      break;
    default:
      break;
  }
  if (scale != 1) v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  uint64_t n = 0;
  for (char c : v) {
    if (!is_digit(c)) return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
    if (n > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / 1024 / 1024 / 1024)) {
      return std::nullopt;
    }
  }
  return n * scale;
}

}  // namespace ngxwatch::nginx
