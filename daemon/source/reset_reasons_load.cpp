// ResetReasons::load reads tracefs: it belongs to the host library, while the table
// itself (reset_reasons.cpp) is pure and used by the correlator on any input.
#include "common/file_read.h"
#include "source/reset_reasons.h"

namespace ngxwatch {

ResetReasons ResetReasons::load() {
  for (const char* root : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
    if (auto text = read_file(std::string(root) + "/events/tcp/tcp_send_reset/format"))
      return ResetReasons(parse_print_symbolic(*text, "reason"));
  }
  return {};
}

}  // namespace ngxwatch
