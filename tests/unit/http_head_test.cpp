// The captured-bytes parser on well-formed and hostile input: the bytes come from
// sockets nginx serves, truncated at NGXW_CAPTURE_BYTES.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "correlate/http_head.h"
#include "ngxwatch/events.h"

using namespace ngxwatch;

namespace {

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

RequestHead req(const std::string& s) { return parse_request_head(bytes(s)); }
StatusLine status(const std::string& s) { return parse_status_line(bytes(s)); }

}  // namespace

TEST(HttpHead, ParsesARequestHead) {
  std::string head =
      "POST /upload/big?id=7&token=s3cr3t HTTP/1.1\r\nHost: api.example.com\r\n"
      "Content-Length: 8388608\r\nX-Request-ID: abc-123\r\n\r\n";
  RequestHead r = req(head + "xxxxbody");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/upload/big");
  EXPECT_TRUE(r.has_query);
  EXPECT_EQ(r.host, "api.example.com");
  EXPECT_EQ(r.request_id, "abc-123");
  ASSERT_TRUE(r.content_length);
  EXPECT_EQ(*r.content_length, 8388608u);
  ASSERT_TRUE(r.head_bytes);
  EXPECT_EQ(*r.head_bytes, head.size());
  ASSERT_TRUE(r.total_bytes());
  EXPECT_EQ(*r.total_bytes(), head.size() + 8388608u);
  EXPECT_FALSE(r.idempotent());
}

TEST(HttpHead, RedactsQueryStringsEverywhereTheyArePrinted) {
  RequestHead r = req("GET /search?q=alice%40example.com&key=SECRET HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(r.ok);
  std::string line = r.redacted_line();
  EXPECT_EQ(line, "GET /search?<redacted>");
  EXPECT_EQ(line.find("SECRET"), std::string::npos);
  EXPECT_EQ(line.find("alice"), std::string::npos);
  EXPECT_TRUE(r.idempotent());
  EXPECT_EQ(redact_target("/a?b"), "/a?<redacted>");
  EXPECT_EQ(redact_target("/no-query"), "/no-query");
  EXPECT_EQ(redact_target("?only"), "?<redacted>");
}

TEST(HttpHead, HeaderNamesAreCaseInsensitiveAndValuesTrimmed) {
  RequestHead r =
      req("PUT /x HTTP/1.1\r\nhOsT: \t h \r\ncontent-LENGTH:   12 \r\n"
          "TRANSFER-encoding: gzip, chunked\r\nexpect: 100-Continue\r\n\r\n");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.host, "h");
  EXPECT_EQ(r.content_length.value_or(0), 12u);
  EXPECT_TRUE(r.chunked);
  EXPECT_TRUE(r.expect_continue);
}

TEST(HttpHead, TruncatedHeadHasNoTotal) {
  // The capture ends inside the headers: the last line may be cut, so neither it nor
  // a total is trusted.
  RequestHead r = req("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 12345");
  ASSERT_TRUE(r.ok);
  EXPECT_FALSE(r.content_length);  // "12345" may be the start of "1234567"
  EXPECT_FALSE(r.head_bytes);
  EXPECT_FALSE(r.total_bytes());
}

TEST(HttpHead, ChunkedBodyHasNoKnownTotal) {
  RequestHead r = req("POST /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.head_bytes);
  EXPECT_FALSE(r.total_bytes());
}

TEST(HttpHead, NoBodyMeansTheHeadIsTheTotal) {
  std::string head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  RequestHead r = req(head);
  ASSERT_TRUE(r.total_bytes());
  EXPECT_EQ(*r.total_bytes(), head.size());
}

TEST(HttpHead, BareLineFeedsAreAccepted) {
  RequestHead r = req("GET /lf HTTP/1.0\nHost: lf\n\n");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.host, "lf");
  EXPECT_EQ(r.head_bytes.value_or(0), 27u);
}

TEST(HttpHead, RejectsBytesWithoutALineEnd) {
  RequestHead r = req("GET /no-crlf-at-all HTTP/1.1");
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.error.empty());
  EXPECT_EQ(r.redacted_line(), "(unparsed)");
  EXPECT_FALSE(req("").ok);
}

TEST(HttpHead, RejectsTlsAndBinary) {
  // A TLS ClientHello as nginx would read it on an https listener.
  std::string hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n", 13);
  EXPECT_FALSE(req(hello).ok);
  std::string nul("GET\0/ HTTP/1.1\r\n\r\n", 18);
  EXPECT_FALSE(req(nul).ok);
  EXPECT_FALSE(req("\xff\xfe\xfd \xfc HTTP/1.1\r\n\r\n").ok);
  EXPECT_FALSE(status(hello).ok);
}

TEST(HttpHead, RejectsMalformedRequestLines) {
  EXPECT_FALSE(req("GET\r\n\r\n").ok);
  EXPECT_FALSE(req(" / HTTP/1.1\r\n\r\n").ok);
  EXPECT_FALSE(req("GET /x FTP/1.0\r\n\r\n").ok);
  EXPECT_FALSE(req("GET  HTTP/1.1\r\n\r\n").ok);  // empty target
  EXPECT_FALSE(req("G(T /x HTTP/1.1\r\n\r\n").ok);
  EXPECT_FALSE(req(std::string(40, 'A') + " /x HTTP/1.1\r\n\r\n").ok);  // 40-byte method
  EXPECT_FALSE(req("GET /a\x01"
                   "b HTTP/1.1\r\n\r\n")
                   .ok);  // control byte
}

TEST(HttpHead, HugeOrHostileContentLengthIsNotTrusted) {
  EXPECT_FALSE(req("POST /u HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n")
                   .content_length);  // overflows uint64
  EXPECT_FALSE(req("POST /u HTTP/1.1\r\nContent-Length: -5\r\n\r\n").content_length);
  EXPECT_FALSE(req("POST /u HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n").content_length);
  EXPECT_FALSE(req("POST /u HTTP/1.1\r\nContent-Length:\r\n\r\n").content_length);
  EXPECT_FALSE(req("POST /u HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n").content_length);
  // The largest uint64 parses; head + body must not wrap around to a small number (a
  // wrapped total would make any request look fully sent): the total is unknown.
  RequestHead max = req("POST /u HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n");
  ASSERT_TRUE(max.content_length);
  EXPECT_EQ(*max.content_length, 18446744073709551615ull);
  EXPECT_FALSE(max.total_bytes());
  StatusLine smax = status("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551610\r\n\r\n");
  EXPECT_FALSE(smax.total_bytes());
  // Large but representable: kept exactly.
  RequestHead big = req("POST /u HTTP/1.1\r\nContent-Length: 10000000000000\r\n\r\n");
  ASSERT_TRUE(big.total_bytes());
  EXPECT_EQ(*big.total_bytes(), 10000000000000ull + 52);
}

TEST(HttpHead, HostileHeaderValuesAreBoundedAndPrintable) {
  RequestHead r =
      req("GET / HTTP/1.1\r\nHost: ev\x1b[31mil\x7f\r\nX-Request-ID: " + std::string(5000, 'r') +
          "\r\n\r\n");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.host, "ev?[31mil?");
  EXPECT_LE(r.request_id.size(), 256u);
}

TEST(HttpHead, ParsesStatusLines) {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n";
  StatusLine s = status(head + "hello");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.status, 200);
  ASSERT_TRUE(s.total_bytes());
  EXPECT_EQ(*s.total_bytes(), head.size() + 5);

  StatusLine gw = status("HTTP/1.0 502 Bad Gateway\r\n");
  ASSERT_TRUE(gw.ok);
  EXPECT_EQ(gw.status, 502);
  EXPECT_FALSE(gw.total_bytes());  // head not complete in the capture

  StatusLine cont = status("HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(cont.ok);
  EXPECT_EQ(cont.total_bytes().value_or(0), 25u);  // 1xx: never a body

  StatusLine nc = status("HTTP/1.1 304 Not Modified\r\nContent-Length: 999\r\n\r\n");
  EXPECT_EQ(nc.total_bytes().value_or(0), 50u);  // 304: the length describes another body

  StatusLine close_delimited = status("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
  EXPECT_FALSE(close_delimited.total_bytes());  // ends at close: unknown

  StatusLine chunked = status("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_TRUE(chunked.chunked);
  EXPECT_FALSE(chunked.total_bytes());
}

TEST(HttpHead, RejectsMalformedStatusLines) {
  EXPECT_FALSE(status("HTTP/1.1 20").ok);
  EXPECT_FALSE(status("HTTP/1.1 abc Nope\r\n").ok);
  EXPECT_FALSE(status("HTTP/1.1 099 Low\r\n\r\n").ok);
  EXPECT_FALSE(status("HTTX/1.1 200 OK\r\n\r\n").ok);
  EXPECT_FALSE(status("GET / HTTP/1.1\r\n\r\n").ok);
  EXPECT_FALSE(status("").ok);
  EXPECT_FALSE(status("HTTP/1.1 -20 OK\r\n").ok);
}

TEST(HttpHead, RandomAndTruncatedBytesNeverCrashOrLie) {
  // Every prefix of a real head, and random bytes, up to the capture size.
  std::string head =
      "POST /a/b?c=d HTTP/1.1\r\nHost: h\r\nContent-Length: 42\r\nX-Request-ID: id\r\n\r\n";
  for (size_t n = 0; n <= head.size(); ++n) {
    RequestHead r = req(head.substr(0, n));
    if (r.total_bytes()) {
      EXPECT_EQ(n, head.size());  // a total only for a complete head
    }
    (void)status(head.substr(0, n));
  }
  std::mt19937 rng(7);
  static const char kAlphabet[] = " GETPOST/HTP1.\r\n:0123456789";
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % (NGXW_CAPTURE_BYTES + 1), '\0');
    for (char& c : s)
      c = static_cast<char>(rng() % 4 ? kAlphabet[rng() % (sizeof(kAlphabet) - 1)] : rng() % 256);
    RequestHead r = req(s);
    if (r.ok) {
      EXPECT_FALSE(r.method.empty());
      EXPECT_EQ(r.redacted_line().find('\n'), std::string::npos);
    }
    StatusLine st = status(s);
    if (st.ok) {
      EXPECT_GE(st.status, 100);
      EXPECT_LE(st.status, 999);
    }
  }
}
