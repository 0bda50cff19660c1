#include "explain/error_log_line.h"

#include <array>
#include <cctype>
#include <ctime>

#include "correlate/http_head.h"

namespace ngxwatch {

namespace {

constexpr size_t kMaxField = 1024;  // what one printed field may hold
constexpr std::string_view kRedacted = "<redacted>";
// The context ngx_http_log_error() and ngx_http_log_error_handler() append, in order.
constexpr std::array<std::string_view, 7> kKeys = {"client",   "server", "request", "subrequest",
                                                   "upstream", "host",   "referrer"};

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(std::min(s.size(), kMaxField));
  for (char ch : s.substr(0, kMaxField)) {
    auto c = static_cast<unsigned char>(ch);
    out += c >= 0x20 && c < 0x7f ? ch : '?';
  }
  return out;
}

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (s.size() < pos + n) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

// Leading decimal number of s (at most 10 digits); advances pos past it.
std::optional<uint64_t> number(std::string_view s, size_t& pos) {
  size_t start = pos;
  uint64_t v = 0;
  while (pos < s.size() && pos - start < 19 && std::isdigit(static_cast<unsigned char>(s[pos])))
    v = v * 10 + static_cast<uint64_t>(s[pos++] - '0');
  if (pos == start) return std::nullopt;
  return v;
}

bool starts(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool has(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

// `YYYY/MM/DD HH:MM:SS [level] PID#TID: ` and `*N `; returns where the message starts.
size_t parse_prefix(std::string_view s, ErrorLogLine& l) {
  if (s.size() < 20 || s[4] != '/' || s[7] != '/' || s[10] != ' ' || s[13] != ':' || s[16] != ':' ||
      s[19] != ' ')
    return 0;
  if (!digits(s, 0, 4, l.year) || !digits(s, 5, 2, l.month) || !digits(s, 8, 2, l.day) ||
      !digits(s, 11, 2, l.hour) || !digits(s, 14, 2, l.minute) || !digits(s, 17, 2, l.second))
    return 0;
  size_t pos = 20;
  if (pos >= s.size() || s[pos] != '[') return 0;
  size_t close = s.find("] ", pos);
  if (close == std::string_view::npos || close - pos > 16) return 0;
  l.level = printable(s.substr(pos + 1, close - pos - 1));
  pos = close + 2;
  auto pid = number(s, pos);
  if (!pid || *pid > 0xffffffffu || pos >= s.size() || s[pos] != '#') return 0;
  ++pos;
  auto tid = number(s, pos);
  if (!tid || s.substr(pos, 2) != ": ") return 0;
  l.pid = static_cast<uint32_t>(*pid);
  l.tid = static_cast<uint32_t>(*tid & 0xffffffffu);
  pos += 2;
  if (pos < s.size() && s[pos] == '*') {
    size_t p = pos + 1;
    auto conn = number(s, p);
    if (conn && p < s.size() && s[p] == ' ') {
      l.connection = conn;
      pos = p + 1;
    }
  }
  return pos;
}

// Where ", KEY: " of one of kKeys starts at or after `from` (npos if none).
size_t next_key(std::string_view s, size_t from, std::string_view* key) {
  for (size_t at = s.find(", ", from); at != std::string_view::npos; at = s.find(", ", at + 1)) {
    for (std::string_view k : kKeys) {
      if (s.substr(at + 2, k.size()) == k && s.substr(at + 2 + k.size(), 2) == ": ") {
        if (key) *key = k;
        return at;
      }
    }
  }
  return std::string_view::npos;
}

// "METHOD TARGET PROTO" with the target's query redacted.
std::string redact_request(std::string_view v, ErrorLogLine* l) {
  size_t sp1 = v.find(' ');
  if (sp1 == std::string_view::npos) return printable(redact_target(v));
  size_t sp2 = v.find(' ', sp1 + 1);
  std::string_view method = v.substr(0, sp1);
  std::string_view target = v.substr(sp1 + 1, sp2 == std::string_view::npos ? sp2 : sp2 - sp1 - 1);
  std::string_view rest = sp2 == std::string_view::npos ? "" : v.substr(sp2);
  if (l) {
    l->method = printable(method.substr(0, 16));
    l->path = printable(target.substr(0, target.find('?')));
  }
  return printable(method.substr(0, 16)) + " " + printable(redact_target(target)) +
         printable(rest.substr(0, 16));
}

// "http://127.0.0.1:8081/uri?q" -> upstream "127.0.0.1:8081", printed with the query
// redacted. A unix socket peer is "http://unix:/path:/uri".
std::string redact_upstream(std::string_view v, ErrorLogLine& l) {
  size_t scheme = v.find("://");
  if (scheme == std::string_view::npos || scheme > 16) return printable(redact_target(v));
  size_t host = scheme + 3;
  size_t end = starts(v.substr(host), "unix:") ? v.find(':', host + 5) : v.find('/', host);
  if (end == std::string_view::npos) end = v.size();
  l.upstream = printable(v.substr(host, std::min<size_t>(end - host, 256)));
  return printable(v.substr(0, end)) + printable(redact_target(v.substr(end)));
}

LogKind kind_of(std::string_view msg, std::optional<int> err) {
  bool to_upstream = has(msg, "upstream");
  if (starts(msg, "upstream timed out")) return LogKind::kUpstreamTimeout;
  if (has(msg, "upstream prematurely closed connection")) return LogKind::kUpstreamClosed;
  if (starts(msg, "connect() ") && err == 111) return LogKind::kConnectRefused;
  if (starts(msg, "client intended to send too large body")) return LogKind::kBodyTooLarge;
  if (has(msg, "worker_connections are not enough")) return LogKind::kWorkerConnections;
  if (starts(msg, "a client request body is buffered to a temporary file"))
    return LogKind::kBodyBuffered;
  // ngx_write_file() / ngx_write_chain_to_file(): the syscall, then the quoted file.
  for (std::string_view f : {"pwrite() \"", "pwritev() \"", "write() \""})
    if (starts(msg, f) && has(msg, "\" failed")) return LogKind::kTempWriteFailed;
  for (std::string_view f : {"recv() failed", "readv() failed", "writev() failed", "send() failed",
                             "sendfile() failed", "sendmsg() failed"}) {
    if (!starts(msg, f) || !to_upstream) continue;
    if (err == 104) return LogKind::kUpstreamReset;
    if (err == 32) return LogKind::kUpstreamClosed;  // EPIPE: the upstream had closed
  }
  return LogKind::kOther;
}

}  // namespace

const char* log_kind_name(LogKind k) {
  switch (k) {
    case LogKind::kUpstreamReset:
      return "upstream_reset";
    case LogKind::kUpstreamClosed:
      return "upstream_closed";
    case LogKind::kUpstreamTimeout:
      return "upstream_timeout";
    case LogKind::kConnectRefused:
      return "connect_refused";
    case LogKind::kBodyTooLarge:
      return "body_too_large";
    case LogKind::kTempWriteFailed:
      return "temp_write_failed";
    case LogKind::kWorkerConnections:
      return "worker_connections";
    case LogKind::kBodyBuffered:
      return "body_buffered";
    case LogKind::kOther:
      break;
  }
  return "other";
}

ErrorLogLine parse_error_log_line(std::string_view s) {
  ErrorLogLine l;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  size_t pos = parse_prefix(s, l);
  if (pos == 0) return l;
  l.ok = true;
  std::string_view rest = s.substr(pos);
  std::string_view key;
  size_t ctx = next_key(rest, 0, &key);
  // The message is nginx's own text; the context starts at ", client: " (or, for a
  // line without a client, the first key nginx appends).
  std::string_view msg = rest.substr(0, ctx);
  if (size_t paren = msg.find(" ("); paren != std::string_view::npos) {
    size_t p = paren + 2;
    auto e = number(msg, p);
    if (e && p < msg.size() && msg[p] == ':' && *e < 100000) l.err_no = static_cast<int>(*e);
  }
  l.kind = kind_of(msg, l.err_no);
  l.message = printable(msg);
  char head[64];
  std::snprintf(head, sizeof head, "%04d/%02d/%02d %02d:%02d:%02d [", l.year % 10000, l.month,
                l.day, l.hour, l.minute, l.second);
  l.redacted = head + l.level + "] " + std::to_string(l.pid) + "#" + std::to_string(l.tid) + ": ";
  if (l.connection) l.redacted += "*" + std::to_string(*l.connection) + " ";
  l.redacted += l.message;
  while (ctx != std::string_view::npos) {
    size_t vstart = ctx + 2 + key.size() + 2;
    std::string_view this_key = key;
    std::string_view next;
    size_t vend;
    bool quoted = vstart < rest.size() && rest[vstart] == '"';
    if (quoted) {
      // A quoted value ends at `"` before the next known key, or at the line's end.
      size_t from = vstart + 1;
      for (;;) {
        size_t k = next_key(rest, from, &next);
        if (k == std::string_view::npos) {
          vend = rest.size();
          ctx = k;
          break;
        }
        if (rest[k - 1] == '"' && k - 1 >= vstart + 1) {
          vend = k;
          ctx = k;
          break;
        }
        from = k + 1;
      }
    } else {
      ctx = next_key(rest, vstart, &next);
      vend = ctx == std::string_view::npos ? rest.size() : ctx;
    }
    if (vstart > vend) vstart = vend;
    std::string_view value = rest.substr(vstart, vend - vstart);
    if (quoted && !value.empty() && value.front() == '"') value.remove_prefix(1);
    if (quoted && !value.empty() && value.back() == '"') value.remove_suffix(1);
    std::string shown;
    if (this_key == "client") {
      l.client = printable(value.substr(0, 64));
      shown = l.client;
    } else if (this_key == "server") {
      l.server = printable(value.substr(0, 256));
      shown = l.server;
    } else if (this_key == "request") {
      shown = redact_request(value, &l);
    } else if (this_key == "subrequest") {
      shown = printable(redact_target(value));
    } else if (this_key == "upstream") {
      shown = redact_upstream(value, l);
    } else {
      shown = std::string(kRedacted);  // host, referrer: header values
    }
    l.redacted += ", " + std::string(this_key) + ": " + (quoted ? "\"" + shown + "\"" : shown);
    key = next;
  }
  return l;
}

std::optional<int64_t> local_epoch_seconds(const ErrorLogLine& l) {
  // Years a log of a running nginx can carry: nanoseconds of any of them fit an
  // int64_t, so the join's arithmetic cannot overflow on a hostile line.
  if (!l.ok || l.year < 1970 || l.year > 2200 || l.month < 1 || l.month > 12 || l.day < 1 ||
      l.day > 31 || l.hour > 23 || l.minute > 59 || l.second > 60)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = l.year - 1900;
  tm.tm_mon = l.month - 1;
  tm.tm_mday = l.day;
  tm.tm_hour = l.hour;
  tm.tm_min = l.minute;
  tm.tm_sec = l.second;
  tm.tm_isdst = -1;  // the zone's own rule for that date
  std::time_t t = std::mktime(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return static_cast<int64_t>(t);
}

}  // namespace ngxwatch
