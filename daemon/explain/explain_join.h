// The join of `ngxwatch explain`: each upstream-related line of nginx's error log with
// the failure the kernel saw for the same request. Pure: lines and records in, one
// explanation per line out.
//
// The join key, and why: the kernel never learns nginx's connection number (*N), and
// nginx logs the client's address without its port. What both sides know is the worker
// pid (the log's PID#TID, the event's tgid), the upstream peer (the log's `upstream:
// "http://HOST:PORT/..."`, the socket's remote address), the client address, the
// request (method and path: the log's `request:`, the captured request head) and the
// time. A line matches a failure when the pid is equal, every field both sides have is
// equal, nginx's words fit the kernel's cause (a 104 line is a reset or close, never a
// timeout), and the failure's wall time is within the tolerance of the line's second.
// Several failures of the same request in one second (retries, a burst of uploads)
// are taken in order: lines and failures are both in time order, and each failure
// goes to the first line group that fits it. Lines of the same nginx connection and
// request (pid + *N + upstream + request) are one group, so the `writev() failed` and
// `recv() failed` lines nginx may write for one reset both name that one failure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "explain/error_log_line.h"
#include "explain/failure_ring.h"

namespace ngxwatch {

struct JoinOptions {
  double tolerance_s = 2;  // around the line's second (nginx logs whole seconds)
};

struct Explanation {
  ErrorLogLine line;
  size_t line_no = 0;
  std::optional<int64_t> line_wall_s;  // the line's time, epoch seconds (local time read)
  std::optional<size_t> record;        // index into the records joined against
  std::string unmatched;               // why none matched ("" when one did)
};

// Whether explain reports this line at all (upstream- and body-related kinds).
bool explainable(const ErrorLogLine& l);

// Whether nginx's words (the line's kind) fit a failure's cause.
bool kind_fits_cause(LogKind kind, const std::string& cause);

std::vector<Explanation> join_error_log(std::vector<Explanation> lines,
                                        const std::vector<FailureRecord>& records,
                                        const FailureCoverage& coverage,
                                        const JoinOptions& options = {});

// "18:00:49" of a wall time in ns (local time), "" for 0.
std::string wall_clock_text(int64_t wall_ns);

}  // namespace ngxwatch
