// Parsers for the bytes the kernel captured at the start of a message on an nginx
// socket: a request head (client->nginx, nginx->upstream) or a status line
// (upstream->nginx, nginx->client). The bytes are untrusted and truncated at
// NGXW_CAPTURE_BYTES: every field is optional, nothing here trusts a length, and no
// field ever becomes a metric label (only config-derived names do).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace ngxwatch {

struct RequestHead {
  bool ok = false;
  std::string error;   // why it is not a request head (binary, TLS, no request line)
  std::string method;  // "POST"
  std::string target;  // "/upload?id=1" as sent (may be truncated)
  std::string path;    // target without query string
  bool has_query = false;
  std::string host;
  std::optional<uint64_t> content_length;
  bool chunked = false;
  bool expect_continue = false;
  std::string request_id;  // X-Request-ID, if captured
  // Bytes up to and including the blank line, when the head fit in the capture.
  std::optional<uint64_t> head_bytes;
  // Total bytes the message will have on the wire, when known (head + body).
  std::optional<uint64_t> total_bytes() const;
  // "POST /upload?<redacted>": what logs and output may show.
  std::string redacted_line() const;
  bool idempotent() const;
};

struct StatusLine {
  bool ok = false;
  int status = 0;
  std::optional<uint64_t> content_length;
  bool chunked = false;
  std::optional<uint64_t> head_bytes;
  std::optional<uint64_t> total_bytes() const;
};

RequestHead parse_request_head(std::span<const uint8_t> bytes);
StatusLine parse_status_line(std::span<const uint8_t> bytes);

// Replaces the query string with "?<redacted>" and non-printable bytes with '?'.
std::string redact_target(std::string_view target);

}  // namespace ngxwatch
