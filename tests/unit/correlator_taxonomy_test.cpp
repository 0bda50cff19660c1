// The correlator on hand-built event traces of the taxonomy rows whose verdict is the
// correlator's, not only the classifier's: which request a failure belongs to, what
// the client saw, and which families an observation reaches.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "correlate/correlator.h"

using namespace ngxwatch;

namespace {

constexpr uint64_t kMs = 1000000ull;
constexpr uint32_t kWorker = 4242;
const Place kApi{"backend_api", "shop.test", "/api/"};
const Place kUpload{"backend_api", "shop.test", "/upload/"};

class TableConfig : public ConfigView {
 public:
  std::optional<Place> for_client_request(const ngxw_endpoint&, std::string_view,
                                          std::string_view path) const override {
    if (path.starts_with("/api/")) return kApi;
    if (path.starts_with("/upload/")) return kUpload;
    return std::nullopt;
  }
  std::optional<Place> for_upstream_request(const std::string&,
                                            std::string_view path) const override {
    return for_client_request({}, "", path);
  }
  std::string upstream_for_peer(const std::string&) const override { return "backend_api"; }
  Timeouts timeouts(const Place&) const override { return {}; }
};

struct Recorder : ObservationSink {
  std::vector<ResetObservation> resets;
  std::vector<FailureObservation> failures;
  std::vector<ClientStatusObservation> visible;
  std::vector<Place> absorbed;
  std::vector<RequestObservation> requests;
  void on_request(const RequestObservation& r) override { requests.push_back(r); }
  void on_reset(const ResetObservation& r) override { resets.push_back(r); }
  void on_failure(const FailureObservation& f) override { failures.push_back(f); }
  void on_client_visible(const ClientStatusObservation& s) override { visible.push_back(s); }
  void on_retry_absorbed(const Place& p) override { absorbed.push_back(p); }
};

ngxw_endpoint ep(uint16_t port) {
  ngxw_endpoint e{};
  e.family = 2;
  e.addr[0] = 127;
  e.addr[3] = 1;
  e.port = port;
  return e;
}

struct Trace {
  TableConfig view;
  SingleConfig configs{&view};
  Recorder sink;
  Correlator corr{&configs, &sink};
  uint64_t now = 1000 * 1000 * kMs;
  uint32_t weight = 0;  // of the next data events (kernel sampling); 0 as in old traces

  ngxw_conn_event conn(uint16_t type, uint64_t sock, uint8_t side) {
    ngxw_conn_event e{};
    e.hdr.version = NGXW_EVENT_VERSION;
    e.hdr.type = type;
    e.hdr.tgid = kWorker;
    e.hdr.ts_ns = now;
    e.sock_id = sock;
    e.side = side;
    e.local = side == NGXW_SIDE_CLIENT ? ep(80) : ep(40000);
    e.remote = side == NGXW_SIDE_CLIENT ? ep(50000) : ep(8080);
    e.reason = NGXW_REASON_NONE;
    return e;
  }
  void open(uint64_t sock, uint8_t side) {
    auto e = conn(NGXW_EV_CONN_OPEN, sock, side);
    e.stats.opened_ns = now;
    corr.on_event(e);
  }
  void data(uint64_t sock, uint8_t side, bool outbound, const std::string& bytes,
            uint32_t request = 1, uint64_t link = 0, int32_t total = -999) {
    ngxw_data_event d{};
    d.hdr.version = NGXW_EVENT_VERSION;
    d.hdr.type = NGXW_EV_DATA;
    d.hdr.tgid = kWorker;
    d.hdr.ts_ns = now;
    d.sock_id = sock;
    d.link_sock_id = link;
    d.side = side;
    d.outbound = outbound;
    d.local = side == NGXW_SIDE_CLIENT ? ep(80) : ep(40000);
    d.remote = side == NGXW_SIDE_CLIENT ? ep(50000) : ep(8080);
    d.len = static_cast<uint16_t>(std::min<size_t>(bytes.size(), NGXW_CAPTURE_BYTES));
    std::memcpy(d.data, bytes.data(), d.len);
    d.total = total == -999 ? static_cast<int32_t>(bytes.size()) : total;
    d.request = request;
    d.weight = weight;
    corr.on_event(d);
  }
  void send(const ngxw_conn_event& e) { corr.on_event(e); }
};

const std::string kGetApi = "GET /api/items?id=9 HTTP/1.1\r\nHost: shop.test\r\n\r\n";

}  // namespace

TEST(CorrelatorTaxonomy, ConnectRefusedBelongsToTheClientRequestThatTriggeredIt) {
  Trace t;
  t.open(1, NGXW_SIDE_CLIENT);
  t.data(1, NGXW_SIDE_CLIENT, false, kGetApi);
  t.open(2, NGXW_SIDE_UPSTREAM);  // connect(): no byte is ever written on it
  auto rst = t.conn(NGXW_EV_RESET, 2, NGXW_SIDE_UPSTREAM);
  rst.origin = NGXW_ORIGIN_PEER;
  rst.tcp_state = 2;  // SYN_SENT
  t.send(rst);
  t.data(1, NGXW_SIDE_CLIENT, true, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");

  ASSERT_EQ(t.sink.failures.size(), 1u);
  EXPECT_EQ(t.sink.failures[0].cause, "connect_refused");
  EXPECT_EQ(t.sink.failures[0].place, kApi);  // not just the upstream group
  EXPECT_EQ(t.sink.failures[0].error, "refused");
  ASSERT_EQ(t.sink.resets.size(), 1u);
  EXPECT_EQ(t.sink.resets[0].phase, "connect");
  EXPECT_EQ(t.sink.resets[0].place, kApi);
  ASSERT_EQ(t.sink.visible.size(), 1u);
  EXPECT_EQ(t.sink.visible[0].status, 502);
  EXPECT_EQ(t.sink.visible[0].place, kApi);
}

TEST(CorrelatorTaxonomy, ClientAbortDuringTheBodyIsNotAnUpstreamErrorAndLogs400) {
  Trace t;
  t.open(1, NGXW_SIDE_CLIENT);
  std::string head =
      "POST /upload/f HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 5242880\r\n\r\n";
  t.data(1, NGXW_SIDE_CLIENT, false, head);
  auto rst = t.conn(NGXW_EV_RESET, 1, NGXW_SIDE_CLIENT);
  rst.origin = NGXW_ORIGIN_PEER;
  rst.tcp_state = 7;
  rst.stats.requests = 1;
  rst.stats.req_bytes_recv = 262144;
  t.send(rst);

  ASSERT_EQ(t.sink.failures.size(), 1u);
  EXPECT_EQ(t.sink.failures[0].cause, "client_abort");
  EXPECT_EQ(t.sink.failures[0].phase, "client_body");
  EXPECT_EQ(t.sink.failures[0].error, "");  // upstream_errors_total is upstream only
  EXPECT_EQ(t.sink.failures[0].place, kUpload);
  ASSERT_EQ(t.sink.visible.size(), 1u);
  EXPECT_EQ(t.sink.visible[0].status, 400);  // what nginx logs for a failed body read
}

TEST(CorrelatorTaxonomy, ClientGoneWhileWaitingForTheUpstreamIs499) {
  Trace t;
  t.open(1, NGXW_SIDE_CLIENT);
  t.data(1, NGXW_SIDE_CLIENT, false, kGetApi);
  auto fin = t.conn(NGXW_EV_CONN_CLOSE, 1, NGXW_SIDE_CLIENT);
  fin.origin = NGXW_ORIGIN_PEER;
  fin.tcp_state = 9;  // LAST_ACK: nginx closed after the client's FIN
  fin.old_state = 8;
  fin.stats.requests = 1;
  fin.stats.req_bytes_recv = kGetApi.size();
  t.send(fin);
  ASSERT_EQ(t.sink.failures.size(), 1u);
  EXPECT_EQ(t.sink.failures[0].cause, "client_abort");
  EXPECT_EQ(t.sink.failures[0].phase, "send_response");
  ASSERT_EQ(t.sink.visible.size(), 1u);
  EXPECT_EQ(t.sink.visible[0].status, 499);
}

TEST(CorrelatorTaxonomy, BodyTooLargeComesFromNginxs413WithNoUpstream) {
  Trace t;
  t.open(1, NGXW_SIDE_CLIENT);
  t.data(1, NGXW_SIDE_CLIENT, false,
         "POST /api/form HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 10240\r\n\r\n");
  t.data(1, NGXW_SIDE_CLIENT, true, "HTTP/1.1 413 Request Entity Too Large\r\n\r\n");
  ASSERT_EQ(t.sink.failures.size(), 1u);
  const auto& f = t.sink.failures[0];
  EXPECT_EQ(f.cause, "body_too_large");
  EXPECT_EQ(f.place.upstream, "");
  EXPECT_EQ(f.place.location, "/api/");
  EXPECT_EQ(f.error, "");
  EXPECT_NE(f.evidence.find("Content-Length 10240"), std::string::npos);
  ASSERT_EQ(t.sink.visible.size(), 1u);
  EXPECT_EQ(t.sink.visible[0].status, 413);
}

TEST(CorrelatorTaxonomy, KeepaliveRaceEndingInAFinIsSeenAndCarriesTheIdleTime) {
  Trace t;
  t.open(1, NGXW_SIDE_CLIENT);
  t.data(1, NGXW_SIDE_CLIENT, false, kGetApi);
  t.data(2, NGXW_SIDE_UPSTREAM, true, kGetApi, 2, 1);  // request 2 on a pooled connection
  auto fin = t.conn(NGXW_EV_CONN_CLOSE, 2, NGXW_SIDE_UPSTREAM);
  fin.origin = NGXW_ORIGIN_PEER;
  fin.tcp_state = 9;  // LAST_ACK
  fin.old_state = 8;
  fin.stats.requests = 2;
  fin.stats.req_bytes_sent = kGetApi.size();
  fin.stats.last_send_ns = t.now;
  fin.stats.idle_ns = 1300 * kMs;
  fin.stats.peer_fin = 1;
  t.send(fin);
  // nginx retried the GET on a new connection: the client got its 200.
  t.data(1, NGXW_SIDE_CLIENT, true, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");

  EXPECT_TRUE(t.sink.resets.empty());
  ASSERT_EQ(t.sink.failures.size(), 1u);
  const auto& f = t.sink.failures[0];
  EXPECT_EQ(f.cause, "keepalive_race");
  EXPECT_EQ(f.error, "closed");
  EXPECT_EQ(f.phase, "read_header");
  EXPECT_EQ(f.place, kApi);
  ASSERT_TRUE(f.keepalive_idle_s);
  EXPECT_NEAR(*f.keepalive_idle_s, 1.3, 1e-9);
  EXPECT_TRUE(t.sink.visible.empty());
  ASSERT_EQ(t.sink.absorbed.size(), 1u);
  EXPECT_EQ(t.sink.absorbed[0], kApi);
}

TEST(CorrelatorTaxonomy, ConnectionCloseAnswerReadAfterThePeersFinIsNotAFailure) {
  // The backend's answer and its FIN arrive together; nginx reads the answer, then
  // closes: the close event (LAST_ACK) carries the bytes nginx read.
  Trace t;
  t.open(1, NGXW_SIDE_CLIENT);
  t.data(1, NGXW_SIDE_CLIENT, false, kGetApi);
  t.open(2, NGXW_SIDE_UPSTREAM);
  t.data(2, NGXW_SIDE_UPSTREAM, true, kGetApi, 1, 1);
  std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
  t.data(2, NGXW_SIDE_UPSTREAM, false, answer);
  auto fin = t.conn(NGXW_EV_CONN_CLOSE, 2, NGXW_SIDE_UPSTREAM);
  fin.origin = NGXW_ORIGIN_PEER;
  fin.tcp_state = 9;
  fin.old_state = 8;
  fin.stats.requests = 1;
  fin.stats.req_bytes_sent = kGetApi.size();
  fin.stats.req_bytes_recv = answer.size();
  fin.stats.peer_fin = 1;
  t.send(fin);
  EXPECT_TRUE(t.sink.failures.empty()) << t.sink.failures[0].cause;
}

TEST(CorrelatorTaxonomy, FailedWriteOnAReusedConnectionIsAKeepaliveRace) {
  Trace t;
  t.open(1, NGXW_SIDE_CLIENT);
  t.data(1, NGXW_SIDE_CLIENT, false, kGetApi);
  t.data(2, NGXW_SIDE_UPSTREAM, true, "", 3, 1, -104);
  ASSERT_EQ(t.sink.failures.size(), 1u);
  EXPECT_EQ(t.sink.failures[0].cause, "keepalive_race");
  EXPECT_EQ(t.sink.failures[0].phase, "send_request");
  EXPECT_EQ(t.sink.failures[0].place, kApi);
}

// Kernel sampling: above --sample-rate the kernel keeps an uneventful request's bytes
// to itself and marks the close of its connection QUIET.

namespace {

// An upstream close that, judged from the counters alone, reads as a response cut
// short: 300 bytes received, the peer closed first.
ngxw_conn_event close_mid_response(Trace& t, uint64_t sock, uint32_t flags) {
  auto fin = t.conn(NGXW_EV_CONN_CLOSE, sock, NGXW_SIDE_UPSTREAM);
  fin.origin = NGXW_ORIGIN_PEER;
  fin.tcp_state = 9;  // LAST_ACK
  fin.old_state = 8;
  fin.flags = flags;
  fin.stats.requests = 1;
  fin.stats.req_bytes_sent = 120;
  fin.stats.req_bytes_recv = 300;
  fin.stats.last_send_ns = t.now - kMs;
  fin.stats.last_recv_ns = t.now;
  fin.stats.peer_fin = 1;
  return fin;
}

}  // namespace

TEST(CorrelatorSampling, QuietCloseOfAnUnsampledRequestIsNotJudged) {
  Trace t;
  t.open(2, NGXW_SIDE_UPSTREAM);
  t.send(close_mid_response(t, 2, NGXW_CONN_QUIET));
  EXPECT_TRUE(t.sink.failures.empty()) << t.sink.failures[0].cause;
  // The same counters without the kernel's word: a response cut short.
  t.open(3, NGXW_SIDE_UPSTREAM);
  t.send(close_mid_response(t, 3, 0));
  ASSERT_EQ(t.sink.failures.size(), 1u);
  EXPECT_EQ(t.sink.failures[0].cause, "upstream_reset_mid_response");
}

TEST(CorrelatorSampling, ASampledRequestStandsForItsStride) {
  Trace t;
  t.open(1, NGXW_SIDE_CLIENT);
  t.weight = 40;  // the kernel reported one request in 40
  t.data(1, NGXW_SIDE_CLIENT, false, kGetApi);
  t.weight = 0;  // status lines carry none
  t.data(1, NGXW_SIDE_CLIENT, true, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  t.data(1, NGXW_SIDE_CLIENT, false, kGetApi, 2);  // an old trace: no weight, one request
  t.data(1, NGXW_SIDE_CLIENT, true, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  ASSERT_EQ(t.sink.requests.size(), 2u);
  EXPECT_EQ(t.sink.requests[0].weight, 40u);
  EXPECT_EQ(t.sink.requests[0].place, kApi);
  EXPECT_EQ(t.sink.requests[1].weight, 1u);
}

TEST(CorrelatorSampling, ResetAfterAnUnsampledAnswerBeganIsNotAClientAbort) {
  // The kernel kept the request head and sent it at the reset; the answer (a 200) was
  // never sent here, but the kernel saw nginx begin it.
  Trace t;
  t.open(1, NGXW_SIDE_CLIENT);
  t.data(1, NGXW_SIDE_CLIENT, false, kGetApi);
  auto rst = t.conn(NGXW_EV_RESET, 1, NGXW_SIDE_CLIENT);
  rst.origin = NGXW_ORIGIN_PEER;
  rst.stats.requests = 1;
  rst.stats.req_bytes_recv = kGetApi.size();
  rst.stats.req_bytes_sent = 4096;
  rst.flags = NGXW_CONN_ANSWERED;
  t.send(rst);
  EXPECT_TRUE(t.sink.failures.empty()) << t.sink.failures[0].cause;
  EXPECT_TRUE(t.sink.visible.empty());
  ASSERT_EQ(t.sink.resets.size(), 1u);
  EXPECT_EQ(t.sink.resets[0].phase, "send_response");
  // Without the kernel's word the same reset reads as a client that gave up waiting.
  t.open(2, NGXW_SIDE_CLIENT);
  t.data(2, NGXW_SIDE_CLIENT, false, kGetApi);
  rst.sock_id = 2;
  rst.flags = 0;
  t.send(rst);
  ASSERT_EQ(t.sink.failures.size(), 1u);
  EXPECT_EQ(t.sink.failures[0].cause, "client_abort");
}

TEST(CorrelatorSampling, AHeadSentForAnUpstreamLinksItsFailureToThatClient) {
  // Two clients; the worker read client 3 last when it connected for client 1's
  // unsampled request. At the refusal the kernel sends client 1's kept head, naming
  // the upstream connection it was sent for.
  Trace t;
  t.open(1, NGXW_SIDE_CLIENT);
  t.open(3, NGXW_SIDE_CLIENT);
  t.data(3, NGXW_SIDE_CLIENT, false, "GET /upload/a HTTP/1.1\r\nHost: shop.test\r\n\r\n");
  t.open(2, NGXW_SIDE_UPSTREAM);  // user space guesses client 3
  t.data(1, NGXW_SIDE_CLIENT, false, kGetApi, 1, /*link=*/2);
  auto rst = t.conn(NGXW_EV_RESET, 2, NGXW_SIDE_UPSTREAM);
  rst.origin = NGXW_ORIGIN_PEER;
  rst.tcp_state = 2;  // SYN_SENT
  t.send(rst);
  ASSERT_EQ(t.sink.failures.size(), 1u);
  EXPECT_EQ(t.sink.failures[0].cause, "connect_refused");
  EXPECT_EQ(t.sink.failures[0].place, kApi);
  t.data(1, NGXW_SIDE_CLIENT, true, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(t.sink.visible.size(), 1u);
  EXPECT_EQ(t.sink.visible[0].place, kApi);
}

TEST(CorrelatorFirstPacket, WithoutTheMastersConfigThePlaceIsUnknownNotEmpty) {
  // Delivered without a config (unreadable, or the wait for it ran out): "(unknown)",
  // never "" (which reads as "no location matched").
  Recorder sink;
  SingleConfig none(nullptr);
  Correlator corr(&none, &sink);
  Trace t;  // only for its event builders
  const std::string post =
      "POST /upload/f HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 10485760\r\n\r\n";
  auto open = t.conn(NGXW_EV_CONN_OPEN, 1, NGXW_SIDE_CLIENT);
  corr.on_event(open);
  ngxw_data_event d{};
  d.hdr.type = NGXW_EV_DATA;
  d.hdr.tgid = kWorker;
  d.sock_id = 1;
  d.side = NGXW_SIDE_CLIENT;
  d.local = ep(80);
  d.remote = ep(50000);
  d.len = static_cast<uint16_t>(post.size());
  std::memcpy(d.data, post.data(), post.size());
  d.total = d.len;
  d.request = 1;
  corr.on_event(d);
  const std::string answer = "HTTP/1.1 413 Request Entity Too Large\r\n\r\n";
  d.outbound = 1;
  d.len = static_cast<uint16_t>(answer.size());
  std::memcpy(d.data, answer.data(), answer.size());
  corr.on_event(d);
  ASSERT_EQ(sink.failures.size(), 1u);
  EXPECT_EQ(sink.failures[0].cause, "body_too_large");
  EXPECT_EQ(sink.failures[0].place.location, "(unknown)");
  EXPECT_EQ(sink.failures[0].place.server, "(unknown)");
}

TEST(CorrelatorTaxonomy, ClientLeavingAfterA413IsNoClientAbort) {
  // nginx answered 413 on the head; the client kept sending (the kernel counts the
  // rest of the body as a new message) and then closed: one failure, the 413.
  Trace t;
  t.open(1, NGXW_SIDE_CLIENT);
  t.data(1, NGXW_SIDE_CLIENT, false,
         "POST /upload/f HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 5000000\r\n\r\n");
  t.data(1, NGXW_SIDE_CLIENT, true, "HTTP/1.1 413 Request Entity Too Large\r\n\r\n");
  t.data(1, NGXW_SIDE_CLIENT, false, std::string(512, 'z'), 2);  // the body's rest
  auto fin = t.conn(NGXW_EV_CONN_CLOSE, 1, NGXW_SIDE_CLIENT);
  fin.origin = NGXW_ORIGIN_PEER;
  fin.tcp_state = 9;  // LAST_ACK
  fin.stats.requests = 2;
  fin.stats.req_bytes_recv = 2048;
  fin.stats.req_start_ns = t.now;
  t.send(fin);
  ASSERT_EQ(t.sink.failures.size(), 1u);
  EXPECT_EQ(t.sink.failures[0].cause, "body_too_large");
  ASSERT_EQ(t.sink.visible.size(), 1u);
  EXPECT_EQ(t.sink.visible[0].status, 413);
}

TEST(CorrelatorTaxonomy, PostResetBeforeTheHeaderMayHaveRunTwiceAGetDoesNot) {
  for (const std::string method : {"POST", "GET"}) {
    Trace t;
    const std::string head = method + " /api/pay HTTP/1.1\r\nHost: shop.test\r\n\r\n";
    t.open(1, NGXW_SIDE_CLIENT);
    t.data(1, NGXW_SIDE_CLIENT, false, head);
    t.open(2, NGXW_SIDE_UPSTREAM);
    t.data(2, NGXW_SIDE_UPSTREAM, true, head, 1, /*link=*/1);
    auto rst = t.conn(NGXW_EV_RESET, 2, NGXW_SIDE_UPSTREAM);
    rst.origin = NGXW_ORIGIN_PEER;
    rst.tcp_state = 1;
    rst.stats.requests = 1;
    rst.stats.req_bytes_sent = head.size();
    rst.stats.bytes_sent = head.size();
    t.send(rst);
    ASSERT_EQ(t.sink.failures.size(), 1u) << method;
    EXPECT_EQ(t.sink.failures[0].cause, "upstream_reset_before_header");
    EXPECT_EQ(t.sink.failures[0].duplicate_risk, method == "POST") << method;
    EXPECT_EQ(t.sink.failures[0].method, method == "POST" ? "POST" : "");
  }
}

TEST(CorrelatorTaxonomy, TheFinalAnswerAfter100ContinueIsTheRequestsStatus) {
  // curl sends `Expect: 100-continue` for bodies over 1 MiB: nginx answers the interim
  // 100, the body follows (a new inbound message for the kernel), then the real answer.
  Trace t;
  t.open(1, NGXW_SIDE_CLIENT);
  t.data(1, NGXW_SIDE_CLIENT, false,
         "POST /upload/f HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 2000000\r\n"
         "Expect: 100-continue\r\n\r\n");
  t.data(1, NGXW_SIDE_CLIENT, true, "HTTP/1.1 100 Continue\r\n\r\n");
  t.data(1, NGXW_SIDE_CLIENT, false, std::string(512, 'z'), 2);  // the body
  t.data(1, NGXW_SIDE_CLIENT, true, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 2);
  ASSERT_EQ(t.sink.requests.size(), 1u);
  EXPECT_EQ(t.sink.requests[0].status, 201);
  EXPECT_EQ(t.sink.requests[0].place, kUpload);
  EXPECT_EQ(t.corr.stats().unparsed_captures, 0u);
}
