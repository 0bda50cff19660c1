// The classifier on hand-built traces: one case per cause of DESIGN.md's taxonomy that
// the classifier decides (body_too_large is decided from nginx's 413, see
// correlator_test.cpp), plus the harmless and not-quite cases next to each.
#include <gtest/gtest.h>

#include "classify/classifier.h"

using namespace ngxwatch;

namespace {

constexpr uint64_t kMs = 1000000ull;
constexpr uint64_t kS = 1000000000ull;
constexpr uint64_t kT0 = 1000 * kS;  // connection opened

constexpr uint8_t kSynSent = 2, kClose = 7, kLastAck = 9, kEstablished = 1, kFinWait1 = 4;

// An upstream connection that carried `requests` requests; the current one started at
// `start`, nginx sent `sent` of `total` request bytes, received `recv` bytes.
ClassifyInput upstream(uint32_t requests, uint64_t start, uint64_t sent, uint64_t total,
                       uint64_t recv, EndKind end, uint64_t now) {
  ClassifyInput in;
  in.side = NGXW_SIDE_UPSTREAM;
  in.end = end;
  in.tcp_state = kEstablished;
  in.now_ns = now;
  in.stats.opened_ns = kT0;
  in.stats.requests = requests;
  in.stats.req_start_ns = start;
  in.stats.first_send_ns = start;
  in.stats.last_send_ns = sent ? start + kMs : 0;
  in.stats.req_bytes_sent = sent;
  in.stats.bytes_sent = sent;
  in.stats.req_bytes_recv = recv;
  in.stats.bytes_recv = recv;
  if (recv) in.stats.first_recv_ns = in.stats.last_recv_ns = start + 2 * kMs;
  in.request_total = total;
  return in;
}

ClassifyInput client(uint64_t recv, uint64_t total, EndKind end, uint64_t now) {
  ClassifyInput in;
  in.side = NGXW_SIDE_CLIENT;
  in.end = end;
  in.tcp_state = kEstablished;
  in.now_ns = now;
  in.stats.opened_ns = kT0;
  in.stats.requests = 1;
  in.stats.req_start_ns = kT0;
  in.stats.req_bytes_recv = recv;
  in.stats.last_recv_ns = kT0 + 10 * kMs;
  in.request_total = total;
  return in;
}

void expect_verdict(const Verdict& v, const char* phase, const char* error, const char* cause) {
  EXPECT_EQ(v.phase, phase);
  EXPECT_EQ(v.error, error);
  EXPECT_EQ(v.cause, cause);
  EXPECT_EQ(v.failure(), std::string(cause) != "");
  EXPECT_EQ(v.evidence.find("(null)"), std::string::npos) << v.evidence;
}

}  // namespace

// ---- connect

TEST(Classifier, RstInSynSentIsConnectRefused) {
  ClassifyInput in = upstream(0, 0, 0, 0, 0, EndKind::kResetReceived, kT0 + kMs);
  in.request_total.reset();
  in.tcp_state = kSynSent;
  Verdict v = classify(in);
  expect_verdict(v, "connect", "refused", "connect_refused");
  EXPECT_NE(v.evidence.find("SYN_SENT"), std::string::npos);
}

TEST(Classifier, NginxAbandoningAConnectIsConnectTimeout) {
  ClassifyInput in = upstream(0, 0, 0, 0, 0, EndKind::kClosed, kT0 + 3 * kS);
  in.request_total.reset();
  in.tcp_state = kClose;
  in.old_state = kSynSent;
  in.timeouts.connect_s = 3;
  Verdict v = classify(in);
  expect_verdict(v, "connect", "timeout", "connect_timeout");
  EXPECT_NE(v.evidence.find("3.00 s"), std::string::npos) << v.evidence;
}

// ---- upstream reset while nginx sends the body

TEST(Classifier, RstWithRequestBytesUnsentIsResetSendingBody) {
  Verdict v =
      classify(upstream(1, kT0, 4000000, 8388769, 0, EndKind::kResetReceived, kT0 + 50 * kMs));
  expect_verdict(v, "send_request", "reset", "upstream_reset_sending_body");
  EXPECT_NE(v.evidence.find("4000000 of 8388769 request bytes sent when the upstream reset"),
            std::string::npos)
      << v.evidence;
}

TEST(Classifier, FinWithRequestBytesUnsentIsClosedBeforeHeaderWhileSending) {
  Verdict v = classify(upstream(1, kT0, 1000, 9000, 0, EndKind::kFinFromPeer, kT0 + 50 * kMs));
  expect_verdict(v, "send_request", "closed", "upstream_closed_before_header");
  EXPECT_NE(v.evidence.find("upstream closed"), std::string::npos) << v.evidence;
}

// ---- upstream reset / close before the response header

TEST(Classifier, RstAfterTheWholeRequestWithNoResponseIsResetBeforeHeader) {
  Verdict v = classify(upstream(1, kT0, 65695, 65695, 0, EndKind::kResetReceived, kT0 + 5 * kMs));
  expect_verdict(v, "read_header", "reset", "upstream_reset_before_header");
}

TEST(Classifier, UnknownRequestLengthCountsAsSent) {
  ClassifyInput in = upstream(1, kT0, 300, 0, 0, EndKind::kResetReceived, kT0 + 5 * kMs);
  in.request_total.reset();  // the head did not fit the capture
  expect_verdict(classify(in), "read_header", "reset", "upstream_reset_before_header");
}

TEST(Classifier, FinAfterTheWholeRequestIsClosedBeforeHeader) {
  ClassifyInput in = upstream(1, kT0, 500, 500, 0, EndKind::kFinFromPeer, kT0 + 5 * kMs);
  in.stats.peer_fin = 1;
  in.tcp_state = kLastAck;
  expect_verdict(classify(in), "read_header", "closed", "upstream_closed_before_header");
}

// ---- keepalive race: first request on a reused connection after an idle period

TEST(Classifier, RstOnTheFirstRequestAfterIdleIsKeepaliveRace) {
  ClassifyInput in =
      upstream(2, kT0 + 10 * kS, 300, 300, 0, EndKind::kResetReceived, kT0 + 10 * kS + 600 * kMs);
  in.stats.idle_ns = 1300 * kMs;
  Verdict v = classify(in);
  expect_verdict(v, "read_header", "reset", "keepalive_race");
  ASSERT_TRUE(v.keepalive_idle_s);
  EXPECT_NEAR(*v.keepalive_idle_s, 1.3, 1e-9);
  EXPECT_NE(v.evidence.find("request 2"), std::string::npos) << v.evidence;
  EXPECT_NE(v.evidence.find("1.300 s idle"), std::string::npos) << v.evidence;
}

TEST(Classifier, FinOnTheFirstRequestAfterIdleIsKeepaliveRace) {
  ClassifyInput in =
      upstream(5, kT0 + 10 * kS, 300, 300, 0, EndKind::kFinFromPeer, kT0 + 10 * kS + kMs);
  in.stats.idle_ns = 4 * kS;
  in.stats.peer_fin = 1;
  Verdict v = classify(in);
  expect_verdict(v, "read_header", "closed", "keepalive_race");
  EXPECT_NEAR(*v.keepalive_idle_s, 4.0, 1e-9);
}

TEST(Classifier, KeepaliveRaceTakesPrecedenceOverTheSendingPhase) {
  // The race met while nginx was still writing a large body on the reused connection.
  ClassifyInput in =
      upstream(3, kT0 + 5 * kS, 1000, 100000, 0, EndKind::kResetReceived, kT0 + 5 * kS + kMs);
  in.stats.idle_ns = 2 * kS;
  expect_verdict(classify(in), "send_request", "reset", "keepalive_race");
}

TEST(Classifier, BackToBackReuseIsNotAKeepaliveRace) {
  ClassifyInput in =
      upstream(2, kT0 + kS, 300, 300, 0, EndKind::kResetReceived, kT0 + kS + 5 * kMs);
  in.stats.idle_ns = 100000;  // 100 us: no idle period, the upstream chose to reset
  Verdict v = classify(in);
  expect_verdict(v, "read_header", "reset", "upstream_reset_before_header");
  EXPECT_FALSE(v.keepalive_idle_s);
}

TEST(Classifier, FirstRequestOnANewConnectionIsNotAKeepaliveRace) {
  ClassifyInput in = upstream(1, kT0, 300, 300, 0, EndKind::kResetReceived, kT0 + 5 * kS);
  in.stats.idle_ns = 0;
  expect_verdict(classify(in), "read_header", "reset", "upstream_reset_before_header");
}

TEST(Classifier, ResponseBytesOnTheReusedConnectionMeanNotARace) {
  ClassifyInput in =
      upstream(2, kT0 + 10 * kS, 300, 300, 1000, EndKind::kResetReceived, kT0 + 11 * kS);
  in.stats.idle_ns = 5 * kS;
  in.response_total = 50000;
  expect_verdict(classify(in), "read_body", "reset", "upstream_reset_mid_response");
}

// ---- nginx timed out

TEST(Classifier, NginxClosingAtProxyReadTimeoutIsReadTimeout) {
  ClassifyInput in = upstream(1, kT0, 200, 200, 0, EndKind::kFinFromNginx, 0);
  in.now_ns = in.stats.last_send_ns + 1002 * kMs;
  in.tcp_state = kFinWait1;
  in.timeouts.read_s = 1;
  Verdict v = classify(in);
  expect_verdict(v, "read_header", "timeout", "read_timeout");
  EXPECT_NE(v.evidence.find("proxy_read_timeout 1 s"), std::string::npos) << v.evidence;
}

TEST(Classifier, ReadTimeoutAfterSomeResponseBytesIsInReadBody) {
  ClassifyInput in = upstream(1, kT0, 200, 200, 4096, EndKind::kFinFromNginx, 0);
  in.response_total = 1 << 20;
  in.now_ns = in.stats.last_recv_ns + 60 * kS;
  in.timeouts.read_s = 60;
  expect_verdict(classify(in), "read_body", "timeout", "read_timeout");
}

TEST(Classifier, NginxClosingLongBeforeTheTimeoutIsNotATimeout) {
  // The client went away and nginx dropped the upstream request: not the upstream's fault.
  ClassifyInput in = upstream(1, kT0, 200, 200, 0, EndKind::kFinFromNginx, 0);
  in.now_ns = in.stats.last_send_ns + 300 * kMs;
  in.timeouts.read_s = 60;
  expect_verdict(classify(in), "read_header", "", "");
}

TEST(Classifier, NginxClosingAtProxySendTimeoutIsSendTimeout) {
  ClassifyInput in = upstream(1, kT0, 65536, 10000000, 0, EndKind::kFinFromNginx, 0);
  in.now_ns = in.stats.last_send_ns + 60 * kS + 100 * kMs;
  in.timeouts.send_s = 60;
  expect_verdict(classify(in), "send_request", "timeout", "send_timeout");
}

// ---- mid-response

TEST(Classifier, RstAfterSomeResponseBytesIsResetMidResponse) {
  ClassifyInput in = upstream(1, kT0, 200, 200, 5000, EndKind::kResetReceived, kT0 + kS);
  in.response_total = 100000;
  Verdict v = classify(in);
  expect_verdict(v, "read_body", "reset", "upstream_reset_mid_response");
  EXPECT_NE(v.evidence.find("5000 response bytes received of 100000"), std::string::npos);
}

// ---- harmless: idle pooled connections

TEST(Classifier, RstOnAnIdlePooledConnectionIsHarmless) {
  ClassifyInput in = upstream(3, kT0, 200, 200, 1000, EndKind::kResetReceived, kT0 + 5 * kS);
  in.response_total = 1000;  // the last response was complete
  Verdict v = classify(in);
  expect_verdict(v, "idle", "", "");
  EXPECT_FALSE(v.keepalive_idle_s);
}

TEST(Classifier, FinOnAnIdlePooledConnectionIsHarmless) {
  ClassifyInput in = upstream(1, kT0, 200, 200, 1000, EndKind::kFinFromPeer, kT0 + 60 * kS);
  in.response_total = 1000;
  in.stats.peer_fin = 1;
  expect_verdict(classify(in), "idle", "", "");
}

TEST(Classifier, CloseDelimitedResponseFollowedByQuietIsComplete) {
  // No Content-Length: the response ends at close; 2 s of quiet after it means done.
  ClassifyInput in = upstream(1, kT0, 200, 200, 777, EndKind::kResetReceived, kT0 + 2 * kS);
  in.response_total.reset();
  expect_verdict(classify(in), "idle", "", "");
}

TEST(Classifier, AConnectionThatNeverCarriedARequestIsIdle) {
  ClassifyInput in = upstream(0, 0, 0, 0, 0, EndKind::kResetReceived, kT0 + kS);
  expect_verdict(classify(in), "idle", "", "");
}

// ---- client side

TEST(Classifier, ClientResetDuringItsBodyIsClientAbort) {
  Verdict v = classify(client(262273, 5243009, EndKind::kResetReceived, kT0 + kS));
  expect_verdict(v, "client_body", "reset", "client_abort");
  EXPECT_NE(v.evidence.find("262273 of 5243009"), std::string::npos) << v.evidence;
}

TEST(Classifier, ClientFinDuringItsBodyIsClientAbort) {
  expect_verdict(classify(client(1000, 50000, EndKind::kFinFromPeer, kT0 + kS)), "client_body",
                 "closed", "client_abort");
}

TEST(Classifier, ClientLeavingWhileWaitingForTheAnswerIsClientAbort) {
  Verdict v = classify(client(300, 300, EndKind::kResetReceived, kT0 + 30 * kS));
  expect_verdict(v, "send_response", "reset", "client_abort");
}

TEST(Classifier, ClientResetAfterTheResponseIsHarmless) {
  ClassifyInput in = client(300, 300, EndKind::kResetReceived, kT0 + 30 * kS);
  in.response_started = true;
  in.response_total = 1200;
  in.stats.req_bytes_sent = 1200;
  expect_verdict(classify(in), "idle", "", "");
}

TEST(Classifier, ClientResetMidDownloadIsNotAnAbortOfTheRequest) {
  ClassifyInput in = client(300, 300, EndKind::kResetReceived, kT0 + 30 * kS);
  in.response_started = true;
  in.response_total = 1 << 20;
  in.stats.req_bytes_sent = 4096;
  expect_verdict(classify(in), "send_response", "", "");
}

TEST(Classifier, NginxClosingAClientIsNotAClientAbort) {
  expect_verdict(classify(client(100, 5000, EndKind::kFinFromNginx, kT0 + 60 * kS)), "client_body",
                 "", "");
}

TEST(Classifier, SameInputSameVerdict) {
  ClassifyInput in =
      upstream(2, kT0 + 10 * kS, 300, 300, 0, EndKind::kResetReceived, kT0 + 10 * kS + kMs);
  in.stats.idle_ns = 3 * kS;
  Verdict a = classify(in), b = classify(in);
  EXPECT_EQ(a.phase, b.phase);
  EXPECT_EQ(a.cause, b.cause);
  EXPECT_EQ(a.evidence, b.evidence);
}
