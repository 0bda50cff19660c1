// Fuzzes the trace reader and everything a hostile trace reaches: record decoding
// and the correlator/classifier (without a config: attribution by peer only).
#include <cstddef>
#include <cstdint>
#include <span>

#include "correlate/correlator.h"
#include "export/summary.h"
#include "source/event.h"
#include "source/trace_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ngxwatch::TraceHeader header;
  ngxwatch::Summary summary;
  ngxwatch::Correlator correlator(nullptr, &summary, {}, 64);
  ngxwatch::read_trace_bytes(std::span<const uint8_t>(data, size), "fuzz", header,
                             [&](std::span<const uint8_t> r) {
                               ngxwatch::DecodeResult d = ngxwatch::decode_event(r);
                               if (d.ok) correlator.on_event(d.event);
                             });
  (void)summary.json(correlator.stats().events, 0);
  return 0;
}
