// A recorded trace through the same pipeline as the live daemon: decode, correlate
// (attributing with the trace's own nginx configuration snapshot), observations to a
// sink. `analyze` and `suggest` are two sinks over this one replay.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "attribute/config_view.h"
#include "correlate/observations.h"
#include "nginx/proxy_target.h"
#include "source/event.h"
#include "source/trace_file.h"

namespace ngxwatch {

struct ReplayResult {
  std::string error;  // "" on success, else the trace reader's one-line error
  TraceHeader header;
  uint64_t events = 0;
  uint64_t bad_records = 0;  // malformed records skipped
};

class Correlator;

// Optional extra stages riding on the replay (the detectors in `analyze`).
struct ReplayHooks {
  // Once the trace's configs and the correlator exist.
  std::function<void(const ConfigLookup& configs, const Correlator& correlator)> on_start;
  // After the correlator has seen each event.
  std::function<void(const Event& e)> on_event;
  // Host names in the trace's configs to addresses. Null: bounded_resolver(resolve_host).
  nginx::HostResolver resolve;
};

// Literals (and localhost) as they are; each distinct name through `dns` once, and at
// most `max_names` of them: a hostile trace may name thousands, each a DNS query of its
// choosing and maybe a resolver timeout. Names past the bound resolve to nothing (their
// peers are attributed by path only), with one warning.
inline constexpr size_t kMaxTraceHostNames = 16;
nginx::HostResolver bounded_resolver(nginx::HostResolver dns,
                                     size_t max_names = kMaxTraceHostNames);

ReplayResult replay_trace(const std::string& path, ObservationSink& sink,
                          const ReplayHooks& hooks = {});

// The same over any reader of a trace (read_trace_bytes for a buffer: the fuzz target).
using RecordFn = std::function<void(std::span<const uint8_t>)>;
using TraceReader = std::function<std::string(TraceHeader&, const RecordFn&)>;
ReplayResult replay_from(const TraceReader& read, ObservationSink& sink,
                         const ReplayHooks& hooks = {});

}  // namespace ngxwatch
