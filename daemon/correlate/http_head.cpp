#include "correlate/http_head.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <string_view>

namespace ngxwatch {

namespace {

constexpr size_t kMaxField = 256;  // longest value kept from a captured header

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '!' || c == '~' || c == '*' || c == '+';
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::string printable(std::string_view s) {
  std::string out(s.substr(0, kMaxField));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return out;
}

struct Headers {
  std::optional<uint64_t> content_length;
  bool chunked = false;
  bool expect_continue = false;
  std::string host;
  std::string request_id;
  std::optional<uint64_t> head_bytes;
};

// Walks the header lines after the first line; stops at the blank line or at the end
// of the capture (a truncated last line is ignored: its value may be cut).
Headers parse_headers(std::string_view text, size_t first_line_end) {
  Headers h;
  size_t pos = first_line_end;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) break;
    std::string_view line = text.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = eol + 1;
    if (line.empty()) {
      h.head_bytes = pos;
      break;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = trim(line.substr(0, colon));
    std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
      h.content_length = parse_u64(value);
    } else if (iequals(name, "transfer-encoding")) {
      h.chunked = value.find("chunked") != std::string_view::npos;
    } else if (iequals(name, "host")) {
      h.host = printable(value);
    } else if (iequals(name, "expect")) {
      h.expect_continue = iequals(value, "100-continue");
    } else if (iequals(name, "x-request-id")) {
      h.request_id = printable(value);
    }
  }
  return h;
}

std::optional<uint64_t> total_of(const std::optional<uint64_t>& head,
                                 const std::optional<uint64_t>& body, bool chunked) {
  if (!head) return std::nullopt;
  if (body) {
    // A hostile Content-Length must not wrap the sum into a small "total".
    if (*body > std::numeric_limits<uint64_t>::max() - *head) return std::nullopt;
    return *head + *body;
  }
  if (chunked) return std::nullopt;
  return head;  // no body
}

}  // namespace

std::optional<uint64_t> RequestHead::total_bytes() const {
  return total_of(head_bytes, content_length, chunked);
}

std::optional<uint64_t> StatusLine::total_bytes() const {
  if (status == 204 || status == 304 || (status >= 100 && status < 200)) return head_bytes;
  if (!content_length && !chunked) return std::nullopt;  // body ends at close
  return total_of(head_bytes, content_length, chunked);
}

std::string redact_target(std::string_view target) {
  size_t q = target.find('?');
  std::string out = printable(target.substr(0, q));
  if (q != std::string_view::npos) out += "?<redacted>";
  return out;
}

std::string RequestHead::redacted_line() const {
  if (!ok) return "(unparsed)";
  return method + " " + redact_target(target);
}

bool RequestHead::idempotent() const {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS" || method == "TRACE";
}

RequestHead parse_request_head(std::span<const uint8_t> bytes) {
  RequestHead r;
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  size_t eol = text.find('\n');
  if (eol == std::string_view::npos) {
    r.error = "no complete request line";
    return r;
  }
  std::string_view line = text.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || sp1 == 0 || sp1 > 32) {
    r.error = "not a request line";
    return r;
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!std::all_of(method.begin(), method.end(), is_token_char) || target.empty() ||
      version.substr(0, 5) != "HTTP/") {
    r.error = "not a request line";
    return r;
  }
  if (std::any_of(target.begin(), target.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
    r.error = "control bytes in request target";
    return r;
  }
  r.ok = true;
  r.method = std::string(method);
  r.target = std::string(target.substr(0, 4096));
  size_t q = r.target.find('?');
  r.has_query = q != std::string::npos;
  r.path = r.target.substr(0, q);
  Headers h = parse_headers(text, eol + 1);
  r.host = h.host;
  r.content_length = h.content_length;
  r.chunked = h.chunked;
  r.expect_continue = h.expect_continue;
  r.request_id = h.request_id;
  r.head_bytes = h.head_bytes;
  return r;
}

StatusLine parse_status_line(std::span<const uint8_t> bytes) {
  StatusLine s;
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (text.substr(0, 5) != "HTTP/" || text.size() < 12) return s;
  size_t sp = text.find(' ');
  if (sp == std::string_view::npos || sp + 4 > text.size()) return s;
  auto code = parse_u64(text.substr(sp + 1, 3));
  if (!code || *code < 100 || *code > 999) return s;
  s.ok = true;
  s.status = static_cast<int>(*code);
  size_t eol = text.find('\n');
  if (eol == std::string_view::npos) return s;
  Headers h = parse_headers(text, eol + 1);
  s.content_length = h.content_length;
  s.chunked = h.chunked;
  s.head_bytes = h.head_bytes;
  return s;
}

}  // namespace ngxwatch
