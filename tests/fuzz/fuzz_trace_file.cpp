// Fuzzes everything a hostile trace reaches offline, as `analyze` and `suggest --trace`
// run it: the reader, record decoding, the trace's nginx configuration snapshot (the
// parser, attribution with it), the detectors, and the suggestions made from the
// measurements (without nginx -t: nothing is written or executed here).
#include <cstddef>
#include <cstdint>
#include <span>

#include "advise/measurements.h"
#include "advise/suggest.h"
#include "detect/detector_replay.h"
#include "correlate/tee_sink.h"
#include "export/summary.h"
#include "nginx/nginx_config.h"
#include "nginx/proxy_target.h"
#include "source/trace_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ngxwatch;
  std::span<const uint8_t> bytes(data, size);
  TraceReader read = [bytes](TraceHeader& h, const RecordFn& fn) {
    return read_trace_bytes(bytes, "fuzz", h, fn);
  };
  // One replay feeds both: analyze's summary and suggest's measurements, with the
  // detectors riding on it (their own failures go to both too).
  Summary summary;
  advise::Measurements m;
  TeeSink sinks({&summary, &m});
  Detectors detectors(&sinks, /*live=*/false);
  // Names in the trace's configs are not sent to DNS here (analyze bounds how many it
  // resolves): the fuzzer must not depend on, or wait for, the network.
  ReplayResult r = replay_with_detectors(read, sinks, detectors, nginx::resolve_literal);
  summary.set_findings(detectors.findings());
  (void)summary.json(r.events, r.bad_records);
  (void)summary.text();
  m.add_detectors(detectors);
  // suggest --trace: suggestions for each recorded configuration.
  for (const auto& [master, text] : r.header.snapshot.configs) {
    try {
      nginx::Config config = nginx::load_from_dump(text);
      (void)advise::suggest(m, config);
    } catch (const std::exception&) {
      // A snapshot that does not load is reported, as suggest does: not a crash.
    }
  }
  return 0;
}
