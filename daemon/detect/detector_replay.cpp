#include "detect/detector_replay.h"

#include "correlate/correlator.h"
#include "correlate/tee_sink.h"

namespace ngxwatch {

namespace {
// As often as the live loop ticks them (its poll period).
constexpr uint64_t kTickNs = 250000000ull;
}  // namespace

ReplayResult replay_with_detectors(const TraceReader& read, ObservationSink& sink,
                                   Detectors& detectors, const nginx::HostResolver& resolve) {
  TeeSink sinks({&sink, &detectors});
  uint64_t next_tick = 0;
  ReplayHooks hooks;
  hooks.resolve = resolve;
  hooks.on_start = [&](const ConfigLookup& configs, const Correlator& correlator) {
    detectors.set_configs(&configs);
    detectors.set_place_of([&correlator](uint64_t s) { return correlator.place_of(s); });
  };
  hooks.on_event = [&](const Event& e) {
    detectors.on_event(e);
    uint64_t now = event_time_ns(e);
    if (now >= next_tick) {
      detectors.tick(now);
      next_tick = now + kTickNs;
    }
  };
  return replay_from(read, sinks, hooks);
}

ReplayResult replay_with_detectors(const std::string& path, ObservationSink& sink,
                                   Detectors& detectors) {
  return replay_with_detectors(
      [&path](TraceHeader& h, const RecordFn& fn) { return read_trace(path, h, fn); }, sink,
      detectors);
}

}  // namespace ngxwatch
