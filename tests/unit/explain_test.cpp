// `ngxwatch explain`: the error-log line parser on the formats nginx 1.18-1.27 write,
// its redaction and its behaviour on hostile bytes, the join with failure records
// (key, time window, ordering, the two upload failure modes) and the trace's
// wall-clock anchor.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "explain/error_log_line.h"
#include "explain/explain_join.h"
#include "explain/explain_report.h"
#include "explain/failure_ring.h"
#include "source/trace_file.h"

using namespace ngxwatch;

namespace {

// nginx's own words, as ngx_log_error_core() and ngx_http_log_error_handler() write
// them (ngx_http_upstream.c, ngx_event_connect.c, ngx_http_request_body.c, ngx_files.c,
// ngx_event_accept.c). Real nginx 1.22 lines are in tests/data/explain/.
const char* kRecv104 =
    "2026/12/01 18:00:49 [error] 1234#1234: *5678 recv() failed (104: Connection reset by peer) "
    "while reading response header from upstream, client: 127.0.0.1, server: up.example, "
    "request: \"POST /upload/big?token=s3cret HTTP/1.1\", upstream: "
    "\"http://127.0.0.1:8081/upload/big?token=s3cret\", host: \"up.example\", referrer: "
    "\"http://evil/?session=abc\"";
const char* kWritev104 =
    "2026/12/01 18:00:49 [error] 1234#1234: *5678 writev() failed (104: Connection reset by "
    "peer) while sending request to upstream, client: 127.0.0.1, server: up.example, request: "
    "\"POST /upload/big?token=s3cret HTTP/1.1\", upstream: "
    "\"http://127.0.0.1:8081/upload/big?token=s3cret\", host: \"up.example\"";
const char* kPremature =
    "2026/12/01 18:00:50 [error] 1234#1234: *9 upstream prematurely closed connection while "
    "reading response header from upstream, client: ::1, server: up.example, request: \"GET "
    "/api/x HTTP/1.1\", upstream: \"http://[::1]:8082/api/x\", host: \"up.example\"";
const char* kTimeout =
    "2026/12/01 18:00:51 [error] 1235#1235: *11 upstream timed out (110: Connection timed out) "
    "while reading response header from upstream, client: 10.0.0.7, server: up.example, "
    "request: \"GET /report/ HTTP/1.1\", upstream: \"http://127.0.0.1:8083/report/\", host: "
    "\"up.example\"";
const char* kRefused =
    "2026/12/01 18:00:52 [error] 1235#1235: *13 connect() failed (111: Connection refused) "
    "while connecting to upstream, client: 10.0.0.7, server: up.example, request: \"GET /down/ "
    "HTTP/1.1\", upstream: \"http://127.0.0.1:8084/down/\", host: \"up.example\"";
const char* kRefusedTo =  // the connect() that fails at once (ngx_event_connect_peer)
    "2026/12/01 18:00:52 [error] 1235#1235: *14 connect() to 127.0.0.1:8084 failed (111: "
    "Connection refused) while connecting to upstream, client: 10.0.0.7, server: up.example, "
    "request: \"GET /down/ HTTP/1.1\", upstream: \"http://127.0.0.1:8084/down/\", host: "
    "\"up.example\"";
const char* kTooLarge =
    "2026/12/01 18:00:53 [error] 1234#1234: *15 client intended to send too large body: "
    "2097152 bytes, client: 127.0.0.1, server: up.example, request: \"POST /small/ HTTP/1.1\", "
    "host: \"up.example\"";
const char* kPwrite =
    "2026/12/01 18:00:54 [crit] 1234#1234: *17 pwrite() \"/var/lib/nginx/body/0000000003\" "
    "failed (28: No space left on device), client: 127.0.0.1, server: up.example, request: "
    "\"POST /upload/ HTTP/1.1\", host: \"up.example\"";
const char* kWorkers =
    "2026/12/01 18:00:55 [alert] 1236#1236: 512 worker_connections are not enough";
const char* kBuffered =
    "2026/12/01 18:00:56 [warn] 1234#1234: *19 a client request body is buffered to a "
    "temporary file /var/lib/nginx/body/0000000004, client: 127.0.0.1, server: up.example, "
    "request: \"POST /upload/ HTTP/1.1\", host: \"up.example\"";

TEST(ErrorLogLine, UpstreamReset) {
  ErrorLogLine l = parse_error_log_line(kRecv104);
  ASSERT_TRUE(l.ok);
  EXPECT_EQ(l.kind, LogKind::kUpstreamReset);
  EXPECT_EQ(l.level, "error");
  EXPECT_EQ(l.pid, 1234u);
  EXPECT_EQ(l.tid, 1234u);
  EXPECT_EQ(l.connection, 5678u);
  EXPECT_EQ(l.err_no, 104);
  EXPECT_EQ(l.client, "127.0.0.1");
  EXPECT_EQ(l.server, "up.example");
  EXPECT_EQ(l.method, "POST");
  EXPECT_EQ(l.path, "/upload/big");
  EXPECT_EQ(l.upstream, "127.0.0.1:8081");
  EXPECT_EQ(l.year, 2026);
  EXPECT_EQ(l.second, 49);
  EXPECT_EQ(parse_error_log_line(kWritev104).kind, LogKind::kUpstreamReset);
}

TEST(ErrorLogLine, EveryKind) {
  ErrorLogLine p = parse_error_log_line(kPremature);
  EXPECT_EQ(p.kind, LogKind::kUpstreamClosed);
  EXPECT_EQ(p.upstream, "[::1]:8082");
  EXPECT_EQ(p.client, "::1");
  EXPECT_EQ(parse_error_log_line(kTimeout).kind, LogKind::kUpstreamTimeout);
  EXPECT_EQ(parse_error_log_line(kTimeout).err_no, 110);
  EXPECT_EQ(parse_error_log_line(kRefused).kind, LogKind::kConnectRefused);
  EXPECT_EQ(parse_error_log_line(kRefusedTo).kind, LogKind::kConnectRefused);
  ErrorLogLine big = parse_error_log_line(kTooLarge);
  EXPECT_EQ(big.kind, LogKind::kBodyTooLarge);
  EXPECT_EQ(big.upstream, "");
  EXPECT_EQ(big.path, "/small/");
  ErrorLogLine pw = parse_error_log_line(kPwrite);
  EXPECT_EQ(pw.kind, LogKind::kTempWriteFailed);
  EXPECT_EQ(pw.level, "crit");
  EXPECT_EQ(pw.err_no, 28);
  ErrorLogLine w = parse_error_log_line(kWorkers);
  EXPECT_EQ(w.kind, LogKind::kWorkerConnections);
  EXPECT_FALSE(w.connection.has_value());
  EXPECT_EQ(w.pid, 1236u);
  EXPECT_EQ(parse_error_log_line(kBuffered).kind, LogKind::kBodyBuffered);
  // EPIPE on the upstream write: the upstream had closed.
  EXPECT_EQ(parse_error_log_line("2026/12/01 18:00:49 [error] 7#7: *1 writev() failed (32: "
                                 "Broken pipe) while sending request to upstream, client: 1.2.3.4")
                .kind,
            LogKind::kUpstreamClosed);
  // nginx 1.25+: "while reading upstream" after response bytes.
  EXPECT_EQ(
      parse_error_log_line("2026/12/01 18:00:49 [error] 7#7: *1 recv() failed (104: "
                           "Connection reset by peer) while reading upstream, client: 1.2.3.4")
          .kind,
      LogKind::kUpstreamReset);
}

TEST(ErrorLogLine, ClientSideAndOtherLinesAreNotExplained) {
  // A client's reset (logged at info) is not an upstream line.
  EXPECT_FALSE(explainable(parse_error_log_line(
      "2026/12/01 18:00:49 [info] 7#7: *1 recv() failed (104: Connection reset by peer) while "
      "reading client request headers, client: 1.2.3.4")));
  EXPECT_FALSE(explainable(
      parse_error_log_line("2026/12/01 18:00:49 [notice] 7#7: signal process started")));
  EXPECT_FALSE(parse_error_log_line("nginx: [emerg] unknown directive").ok);
  EXPECT_FALSE(parse_error_log_line("").ok);
}

TEST(ErrorLogLine, RedactsQueriesAndHeaderValues) {
  ErrorLogLine l = parse_error_log_line(kRecv104);
  EXPECT_EQ(l.redacted.find("s3cret"), std::string::npos) << l.redacted;
  EXPECT_EQ(l.redacted.find("session"), std::string::npos) << l.redacted;
  EXPECT_NE(l.redacted.find("request: \"POST /upload/big?<redacted> HTTP/1.1\""), std::string::npos)
      << l.redacted;
  EXPECT_NE(l.redacted.find("upstream: \"http://127.0.0.1:8081/upload/big?<redacted>\""),
            std::string::npos)
      << l.redacted;
  EXPECT_NE(l.redacted.find("host: \"<redacted>\""), std::string::npos) << l.redacted;
  EXPECT_NE(l.redacted.find("referrer: \"<redacted>\""), std::string::npos) << l.redacted;
  EXPECT_EQ(l.redacted.rfind("2026/12/01 18:00:49 [error] 1234#1234: *5678 recv() failed", 0), 0u);
}

TEST(ErrorLogLine, HostileBytes) {
  // Control bytes, a quote inside the request, a truncated line, an absurd pid.
  std::string evil = std::string(kRecv104);
  evil.insert(60, std::string("\x00\x1b[31m\xff", 7));
  ErrorLogLine l = parse_error_log_line(evil);
  for (char ch : l.redacted) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << l.redacted;
  ErrorLogLine q = parse_error_log_line(
      "2026/12/01 18:00:49 [error] 1#1: *2 recv() failed (104: x) while reading response header "
      "from upstream, client: 1.1.1.1, server: s, request: \"GET /a\"b?q=secret\" HTTP/1.1\", "
      "upstream: \"http://1.1.1.1:1/a?k=secret\", host: \"h\"");
  EXPECT_EQ(q.redacted.find("secret"), std::string::npos) << q.redacted;
  EXPECT_EQ(q.upstream, "1.1.1.1:1");
  for (size_t n = 0; n < std::strlen(kRecv104); n += 7)
    parse_error_log_line(std::string_view(kRecv104, n));  // never crashes
  EXPECT_FALSE(parse_error_log_line("2026/12/01 18:00:49 [error] 99999999999#1: *2 x").ok);
  EXPECT_FALSE(local_epoch_seconds(parse_error_log_line("2026/13/41 18:00:49 [error] 1#1: x")));
}

TEST(ErrorLogLine, RealNginx122Lines) {
  // Captured from nginx 1.22.1 (Debian 12) by tests/e2e/test_explain.py's scenario.
  std::ifstream in(std::string(NGXWATCH_TESTDATA) + "/explain/nginx-1.22-error.log");
  ASSERT_TRUE(in) << "tests/data/explain/nginx-1.22-error.log";
  std::map<LogKind, int> kinds;
  for (std::string line; std::getline(in, line);) {
    ErrorLogLine l = parse_error_log_line(line);
    ASSERT_TRUE(l.ok) << line;
    ++kinds[l.kind];
    if (l.kind == LogKind::kOther) continue;
    EXPECT_GT(l.pid, 0u) << line;
    EXPECT_EQ(l.client, "127.0.0.1") << line;
    EXPECT_FALSE(l.method.empty()) << line;
    EXPECT_EQ(l.redacted.find("secret"), std::string::npos) << l.redacted;
  }
  for (LogKind k : {LogKind::kUpstreamReset, LogKind::kUpstreamTimeout, LogKind::kConnectRefused,
                    LogKind::kBodyTooLarge})
    EXPECT_GT(kinds[k], 0) << log_kind_name(k);
}

// ---- the join ----

int64_t epoch(const char* line) { return *local_epoch_seconds(parse_error_log_line(line)); }

FailureRecord record(const std::string& cause, uint32_t pid, const std::string& peer,
                     int64_t wall_s, double frac = 0.3) {
  FailureRecord r;
  r.f.cause = cause;
  r.f.pid = pid;
  r.f.peer = peer;
  r.f.client = "127.0.0.1:40000";
  r.f.client_method = "POST";
  r.f.client_path = "/upload/big";
  r.wall_ns = static_cast<int64_t>((static_cast<double>(wall_s) + frac) * 1e9);
  return r;
}

Explanation line(const char* text, size_t no = 1) {
  Explanation e;
  e.line = parse_error_log_line(text);
  e.line_wall_s = local_epoch_seconds(e.line);
  e.line_no = no;
  return e;
}

FailureCoverage daemon_cov(int64_t from_s, int64_t to_s) {
  FailureCoverage c;
  c.source = "daemon";
  c.from_wall_ns = from_s * 1000000000;
  c.to_wall_ns = to_s * 1000000000;
  c.capacity = 4096;
  return c;
}

TEST(ExplainJoin, OneFailureTwoLinesAndTheKeyIsNotVacuous) {
  int64_t t = epoch(kRecv104);
  std::vector<FailureRecord> recs = {
      record("upstream_reset_sending_body", 1234, "127.0.0.1:8081", t)};
  auto out =
      join_error_log({line(kWritev104, 1), line(kRecv104, 2)}, recs, daemon_cov(t - 60, t + 60));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].record, 0u);
  EXPECT_EQ(out[1].record, 0u);  // the same connection's second line: the same failure

  // Another worker, another upstream, another request, a timeout's words: no record.
  std::string other_pid = kRecv104;
  other_pid.replace(other_pid.find("1234#1234"), 9, "4321#4321");
  std::string other_peer = kRecv104;
  other_peer.replace(other_peer.find("127.0.0.1:8081"), 14, "127.0.0.1:9999");
  std::string other_path = kRecv104;
  other_path.replace(other_path.find("POST /upload/big"), 16, "POST /upload/bog");
  for (const std::string& s : {other_pid, other_peer, other_path, std::string(kTimeout)}) {
    auto o = join_error_log({line(s.c_str())}, recs, daemon_cov(t - 60, t + 60));
    EXPECT_FALSE(o[0].record) << s;
    EXPECT_NE(o[0].unmatched.find("no kernel record"), std::string::npos);
  }
  // Outside the tolerance.
  recs[0].wall_ns += 4'000'000'000;
  EXPECT_FALSE(join_error_log({line(kRecv104)}, recs, daemon_cov(t - 60, t + 60))[0].record);
  EXPECT_TRUE(
      join_error_log({line(kRecv104)}, recs, daemon_cov(t - 60, t + 60), JoinOptions{5})[0].record);
}

TEST(ExplainJoin, SaysWhyNothingMatched) {
  int64_t t = epoch(kRecv104);
  auto before = join_error_log({line(kRecv104)}, {}, daemon_cov(t + 100, t + 200));
  EXPECT_NE(before[0].unmatched.find("daemon not running then"), std::string::npos)
      << before[0].unmatched;
  FailureCoverage trace = daemon_cov(t - 200, t - 100);
  trace.source = "trace";
  EXPECT_NE(join_error_log({line(kRecv104)}, {}, trace)[0].unmatched.find("after the trace"),
            std::string::npos);
  auto none = join_error_log({line(kRecv104)}, {}, daemon_cov(t - 10, t + 10));
  EXPECT_NE(none[0].unmatched.find("worker 1234 to 127.0.0.1:8081"), std::string::npos)
      << none[0].unmatched;
}

TEST(ExplainJoin, SameSecondFailuresInOrder) {
  // Three uploads of the same client and path in one second, on three connections.
  int64_t t = epoch(kRecv104);
  std::vector<FailureRecord> recs;
  for (int i = 0; i < 3; ++i)
    recs.push_back(
        record("upstream_reset_before_header", 1234, "127.0.0.1:8081", t, 0.1 + i * 0.2));
  std::vector<Explanation> lines;
  for (int i = 0; i < 3; ++i) {
    std::string s = kRecv104;
    s.replace(s.find("*5678"), 5, "*" + std::to_string(100 + i));
    lines.push_back(line(s.c_str(), static_cast<size_t>(i + 1)));
  }
  auto out = join_error_log(lines, recs, daemon_cov(t - 10, t + 10));
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(out[i].record, i);
}

TEST(ExplainJoin, UploadModesAreNamedDifferently) {
  // nginx wrote the same words for both; the kernel's records differ.
  int64_t t = epoch(kRecv104);
  std::vector<FailureRecord> recs = {
      record("upstream_reset_sending_body", 1234, "127.0.0.1:8081", t, 0.1),
      record("upstream_reset_before_header", 1234, "127.0.0.1:8081", t, 0.6)};
  recs[1].f.duplicate_risk = true;
  recs[1].f.method = "POST";
  std::string second = kRecv104;
  second.replace(second.find("*5678"), 5, "*5679");
  ExplainInput in;
  in.records = recs;
  in.lines = join_error_log({line(kRecv104, 1), line(second.c_str(), 2)}, recs,
                            daemon_cov(t - 10, t + 10));
  in.lines_read = 2;
  std::string text = explain_text(in);
  EXPECT_NE(text.find("upstream_reset_sending_body: the upstream reset the connection while "
                      "nginx was still sending"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("upstream_reset_before_header: the upstream reset the connection after "
                      "the whole request reached it"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("may have run on the backend"), std::string::npos) << text;
  nlohmann::json j = explain_json(in);
  EXPECT_EQ(j[0]["kernel"]["cause"], "upstream_reset_sending_body");
  EXPECT_EQ(j[1]["kernel"]["cause"], "upstream_reset_before_header");
  EXPECT_EQ(j[1]["kernel"]["duplicate_risk"], true);
  EXPECT_FALSE(j[0]["kernel"].contains("client"));  // no client address in the output
}

TEST(ExplainReport, SuggestionOfTheFailuresPlace) {
  advise::Suggestion here, elsewhere, dup;
  here.id = elsewhere.id = "read-timeout";
  here.server = elsewhere.server = "s";
  here.location = "/report/";
  elsewhere.location = "/other/";
  here.file = "/etc/nginx/nginx.conf";
  here.line = 42;
  dup.id = "duplicate-risk";
  dup.server = "s";
  dup.location = "/report/";
  FailureRecord r = record("read_timeout", 1, "127.0.0.1:1", 0);
  r.f.place = {"up", "s", "/report/"};
  std::vector<advise::Suggestion> all = {elsewhere, here, dup};
  auto got = suggestions_for(r, all);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->line, 42);
  r.f.duplicate_risk = true;
  EXPECT_EQ(suggestions_for(r, all).size(), 2u);
}

TEST(FailureRing, BoundedOutcomesAndJson) {
  FailureRing ring([](uint64_t t) { return static_cast<int64_t>(t) + 5; }, 2);
  for (uint64_t id = 1; id <= 3; ++id) {
    FailureObservation f;
    f.id = id;
    f.ts_ns = id * 100;
    f.cause = "read_timeout";
    f.request_total = 10;
    ring.on_failure(f);
  }
  ring.on_failure_outcome(3, 504, false);
  ring.on_failure_outcome(1, 502, false);  // dropped already: ignored
  auto recs = ring.records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(ring.dropped(), 1u);
  EXPECT_EQ(recs[1].client_status, 504);
  EXPECT_EQ(recs[1].wall_ns, 305);
  nlohmann::json j = ring.to_json(1, 2);
  ASSERT_EQ(j["failures"].size(), 2u);
  FailureRecord back = failure_record_from_json(j["failures"][1]);
  EXPECT_EQ(back.f.id, 3u);
  EXPECT_EQ(back.client_status, 504);
  EXPECT_EQ(back.f.request_total, 10u);
  EXPECT_EQ(back.wall_ns, 305);
}

TEST(TraceAnchor, WrittenAndRead) {
  std::string path = ::testing::TempDir() + "/anchor.trace";
  {
    TraceWriter w(path, {});
    ASSERT_TRUE(w.ok());
    uint8_t rec[4] = {1, 2, 3, 4};
    w.write(rec);
    ASSERT_TRUE(w.close());
  }
  TraceHeader h;
  int n = 0;
  EXPECT_EQ(read_trace(path, h, [&](std::span<const uint8_t>) { ++n; }), "");
  EXPECT_EQ(n, 1);
  ASSERT_TRUE(h.wall_offset_ns);
  timespec rt{}, mono{};
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  int64_t now_offset = (rt.tv_sec - mono.tv_sec) * 1000000000ll + (rt.tv_nsec - mono.tv_nsec);
  EXPECT_LT(std::llabs(*h.wall_offset_ns - now_offset), 1000000000ll);
  std::remove(path.c_str());
}

}  // namespace
