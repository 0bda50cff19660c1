// One line of nginx's error log, parsed: the prefix every nginx 1.18-1.27 writes
// (`2026/12/01 18:00:49 [error] 1234#1234: *5678 `), the message, and the context nginx
// appends (`, client: ..., server: ..., request: "...", upstream: "...", host: "..."`).
// The kinds `explain` knows are the upstream- and body-related messages of nginx's
// source (ngx_http_upstream.c, ngx_event_connect.c, ngx_http_request_body.c,
// ngx_files.c, ngx_event_accept.c). A log line is untrusted bytes: every field is
// optional, nothing is trusted for its length, and what is printed is the redacted
// rebuild (query strings and header values replaced), never the raw line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ngxwatch {

enum class LogKind {
  kOther,              // not one explain knows (skipped)
  kUpstreamReset,      // recv()/writev()/send()/sendfile() failed (104) on the upstream
  kUpstreamClosed,     // upstream prematurely closed connection; writev() failed (32)
  kUpstreamTimeout,    // upstream timed out (110)
  kConnectRefused,     // connect() failed (111)
  kBodyTooLarge,       // client intended to send too large body
  kTempWriteFailed,    // pwrite()/pwritev()/write() "FILE" failed (28 ...)
  kWorkerConnections,  // N worker_connections are not enough
  kBodyBuffered,       // a client request body is buffered to a temporary file
};

const char* log_kind_name(LogKind k);

struct ErrorLogLine {
  bool ok = false;  // the nginx prefix parsed (time, level, pid#tid)
  // Local wall time as written (1 s resolution): year, month 1-12, day, h, m, s.
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::string level;  // error, crit, warn, alert, ...
  uint32_t pid = 0;
  uint32_t tid = 0;
  std::optional<uint64_t> connection;  // nginx's connection number (*N)
  LogKind kind = LogKind::kOther;
  std::optional<int> err_no;  // the (104: ...) of the message
  std::string message;        // sanitised, before the ", client: " context
  std::string client;         // client address as nginx logs it (no port)
  std::string server;
  std::string method;    // of request: "..."
  std::string path;      // its URI without the query string
  std::string upstream;  // host:port of upstream: "http://HOST:PORT/..." ("" none)
  std::string redacted;  // the whole line, rebuilt with redactions, printable
};

ErrorLogLine parse_error_log_line(std::string_view line);

// Seconds since the epoch of the line's time read as local time (TZ applies); nullopt
// when the prefix did not parse or the date does not exist.
std::optional<int64_t> local_epoch_seconds(const ErrorLogLine& l);

}  // namespace ngxwatch
