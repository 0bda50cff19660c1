// Names of the kernel's reset reasons (enum sk_rst_reason), read at run time from
// the tracepoint's format file so they follow the running kernel, not our build.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace ngxwatch {

// Parses `__print_symbolic(REC->FIELD, { 0, "NAME" }, ...)` out of a tracefs
// format file. Returns an empty map when the field has no symbolic table.
std::map<unsigned, std::string> parse_print_symbolic(std::string_view format,
                                                     std::string_view field);

class ResetReasons {
 public:
  // Loads from tracefs; silently empty when unavailable (older kernels: no reason).
  static ResetReasons load();
  explicit ResetReasons(std::map<unsigned, std::string> names) : names_(std::move(names)) {}
  ResetReasons() = default;
  // "NOT_SPECIFIED", "TCP_ABORT_ON_CLOSE", ... ; "" for NGXW_REASON_NONE.
  std::string name(unsigned reason) const;

 private:
  std::map<unsigned, std::string> names_;
};

}  // namespace ngxwatch
