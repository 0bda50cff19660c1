// A recorded trace replayed with the detectors riding on it, ticked in event time as
// often as the live loop ticks them, so `analyze` and `suggest` see the verdicts the
// daemon would have reached on the same events.
#pragma once

#include <string>

#include "correlate/trace_replay.h"
#include "detect/detectors.h"

namespace ngxwatch {

// Observations go to `sink` and to `detectors` (the detectors' own failures go where
// they were constructed to send them). `resolve`: as ReplayHooks::resolve.
ReplayResult replay_with_detectors(const std::string& path, ObservationSink& sink,
                                   Detectors& detectors);
ReplayResult replay_with_detectors(const TraceReader& read, ObservationSink& sink,
                                   Detectors& detectors,
                                   const nginx::HostResolver& resolve = nullptr);

}  // namespace ngxwatch
