// Fuzzes the reader of libbpf's load messages, whose verifier log is text the kernel
// prints about our programs (and a kernel upgrade may print differently): which
// program failed and the last lines of why, as one log line.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "source/load_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ngxwatch;
  if (size == 0) return 0;
  // First byte: how many tail lines are asked for; the rest: libbpf messages split
  // at NUL (one message may hold several lines, as a verifier log does).
  size_t lines = data[0] % 8;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  LoadLog log;
  for (size_t start = 0; start <= rest.size();) {
    size_t end = rest.find('\0', start);
    if (end == std::string_view::npos) end = rest.size();
    std::string message(rest.substr(start, end - start));
    log.add(message);
    (void)program_named_in(message);
    start = end + 1;
  }
  LoadFailure f = log.failure(lines);
  if (f.verifier_tail.size() > lines) __builtin_trap();
  for (const std::string& l : f.verifier_tail)
    if (l.find('\n') != std::string::npos) __builtin_trap();
  (void)one_line(f);
  return 0;
}
