// Fuzzes the trace file's framing and record decoding alone (the header, the config
// snapshot and process map, every record length, each event's layout): fast enough to
// run ten million inputs, where fuzz_trace_file runs the whole offline pipeline.
#include <cstddef>
#include <cstdint>
#include <span>

#include "source/event.h"
#include "source/trace_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ngxwatch;
  TraceHeader header;
  uint64_t records = 0;
  std::string error = read_trace_bytes(std::span<const uint8_t>(data, size), "fuzz", header,
                                       [&](std::span<const uint8_t> r) {
                                         ++records;
                                         (void)is_proc_record(r);
                                         DecodeResult d = decode_event(r);
                                         if (!d.ok) return;
                                         (void)event_time_ns(d.event);
                                         (void)event_pid(d.event);
                                       });
  if (error.find('\n') != std::string::npos) __builtin_trap();  // one line
  if (records > size / 5) __builtin_trap();  // every record costs its length and a byte
  return 0;
}
