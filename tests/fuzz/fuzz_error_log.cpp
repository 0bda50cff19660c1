// Fuzzes the parser of nginx error-log lines (`ngxwatch explain` reads whatever file
// or pipe it is given) and what is printed from them: never a crash, only printable
// bytes, and the join and both report formats hold up on whatever it parsed.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "explain/error_log_line.h"
#include "explain/explain_join.h"
#include "explain/explain_report.h"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ngxwatch::ErrorLogLine l = ngxwatch::parse_error_log_line(text);
  for (char ch : l.redacted)
    if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) >= 0x7f)
      __builtin_trap();  // printed as is: no control bytes, no newline
  if (!l.ok) return 0;
  ngxwatch::Explanation e;
  e.line_wall_s = ngxwatch::local_epoch_seconds(l);
  e.line = l;
  ngxwatch::FailureRecord r;
  r.f.pid = l.pid;
  r.f.cause = "upstream_reset_before_header";
  r.f.peer = l.upstream;
  r.wall_ns = e.line_wall_s ? *e.line_wall_s * 1000000000 : 0;
  ngxwatch::ExplainInput in;
  in.records = {r};
  ngxwatch::FailureCoverage cov;
  in.lines = ngxwatch::join_error_log({e}, in.records, cov);
  (void)ngxwatch::explain_text(in);
  (void)ngxwatch::explain_json(in).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
