// The recorded event stream: `ngxwatch record` writes it, `ngxwatch analyze` reads it
// back through the same pipeline. Layout (little endian):
//   "NGXWTRC1" | u32 event version | u32 config length | config text (nginx -T) |
//   records: u32 length | length bytes (one ring-buffer record, as the kernel wrote it)
// A trace is untrusted input: every length is checked, a bad one is an error naming
// the byte offset, never a crash.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace ngxwatch {

class TraceWriter {
 public:
  // Opens (truncates) path; error() is set when it cannot.
  TraceWriter(const std::string& path, const std::string& config_text);
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  bool ok() const { return f_ != nullptr && error_.empty(); }
  const std::string& error() const { return error_; }
  void write(std::span<const uint8_t> record);
  uint64_t records() const { return records_; }
  bool close();

 private:
  std::FILE* f_ = nullptr;
  std::string path_;
  std::string error_;
  uint64_t records_ = 0;
  std::vector<char> buffer_;
};

struct TraceHeader {
  uint32_t event_version = 0;
  std::string config_text;
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
