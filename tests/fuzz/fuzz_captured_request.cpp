// Fuzzes the parsers of bytes the kernel captures from nginx's sockets: request
// heads, status lines, and the redaction applied before anything is printed.
#include <cstddef>
#include <cstdint>
#include <span>

#include "correlate/http_head.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  ngxwatch::RequestHead r = ngxwatch::parse_request_head(bytes);
  (void)r.total_bytes();
  std::string line = r.redacted_line();
  if (r.ok && line.find('\n') != std::string::npos) __builtin_trap();  // never multi-line
  ngxwatch::StatusLine s = ngxwatch::parse_status_line(bytes);
  (void)s.total_bytes();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string red = ngxwatch::redact_target(text);
  if (text.find('?') != std::string_view::npos && red.find("<redacted>") == std::string::npos)
    __builtin_trap();  // a query string must never survive redaction
  return 0;
}
