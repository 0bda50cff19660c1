// A recorded trace through the same pipeline as the live daemon: decode, correlate
// (attributing with the trace's own nginx configuration snapshot), observations to a
// sink. `analyze` and `suggest` are two sinks over this one replay.
#pragma once

#include <cstdint>
#include <string>

#include "correlate/observations.h"
#include "source/trace_file.h"

namespace ngxwatch {

struct ReplayResult {
  std::string error;  // "" on success, else the trace reader's one-line error
  TraceHeader header;
  uint64_t events = 0;
  uint64_t bad_records = 0;  // malformed records skipped
};

ReplayResult replay_trace(const std::string& path, ObservationSink& sink);

}  // namespace ngxwatch
