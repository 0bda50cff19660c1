// The recorded event stream: `ngxwatch record` writes it, `ngxwatch analyze` reads it
// back through the same pipeline. Layout (little endian):
//   "NGXWTRC3" | u32 event version | i64 wall-clock anchor (CLOCK_REALTIME minus
//   CLOCK_MONOTONIC when recording began, ns: event times to wall time) |
//   u32 masters | per master: u32 pid | u32 length | its config (nginx -T text) |
//   u32 processes | per nginx process: u32 pid | u32 master pid |
//   records: u32 length | length bytes (one ring-buffer record, as the kernel wrote it)
// Several nginx masters may run on one host, each with its own configuration; the
// process map says which one a worker's events are attributed with. ("NGXWTRC2",
// without the anchor, and "NGXWTRC1", a single config, are still read.)
// A trace is untrusted input: every length is checked, a bad one is an error naming
// the byte offset, never a crash.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ngxwatch {

// What was running when the trace was recorded.
struct TraceSnapshot {
  std::map<uint32_t, std::string> configs;  // master pid -> its `nginx -T`
  std::map<uint32_t, uint32_t> masters;     // nginx pid -> its master pid
  bool operator==(const TraceSnapshot&) const = default;
};

class TraceWriter {
 public:
  // Opens (truncates) path; error() is set when it cannot.
  TraceWriter(const std::string& path, const TraceSnapshot& snapshot);
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  bool ok() const { return f_ != nullptr && error_.empty(); }
  const std::string& error() const { return error_; }
  void write(std::span<const uint8_t> record);
  uint64_t records() const { return records_; }
  bool close();
  // Closes with the header holding `final_snapshot` (every master seen while
  // recording: one started later, a reload), rewriting the file if it changed.
  bool close(const TraceSnapshot& final_snapshot);

 private:
  std::FILE* f_ = nullptr;
  std::string path_;
  std::string error_;
  uint64_t records_ = 0;
  std::vector<char> buffer_;
  TraceSnapshot snapshot_;  // what the header holds
  int64_t wall_offset_ns_ = 0;
  long header_end_ = 0;
};

struct TraceHeader {
  uint32_t event_version = 0;
  // Event time (CLOCK_MONOTONIC) + this = wall time; none in traces of older builds.
  std::optional<int64_t> wall_offset_ns;
  TraceSnapshot snapshot;
  std::string config_text;  // the first master's config (what `suggest` advises on)
};

// Reads the whole trace; calls on_record for every record. Returns "" on success or
// a one-line error "FILE: offset N: what".
std::string read_trace(const std::string& path, TraceHeader& header,
                       const std::function<void(std::span<const uint8_t>)>& on_record);

// The same over bytes in memory (the fuzz target uses this).
std::string read_trace_bytes(std::span<const uint8_t> bytes, const std::string& name,
                             TraceHeader& header,
                             const std::function<void(std::span<const uint8_t>)>& on_record);

}  // namespace ngxwatch
