// The detectors on hand-built traces: onset, end, thresholds, healthy bursts.
#include <gtest/gtest.h>

#include <cstring>

#include "detect/retry_storm.h"
#include "detect/temp_dir.h"
#include "detect/worker_exhaustion.h"

namespace ngxwatch {
namespace {

constexpr uint64_t kSec = 1000000000ull;

RequestObservation req(uint64_t ts, int client, int status, const char* method = "POST") {
  RequestObservation r;
  r.place = {"app", "shop", "/pay/"};
  r.client = "10.0.0." + std::to_string(client);
  r.method = method;
  r.path = "/pay/charge";
  r.status = status;
  r.idempotent = std::string(method) == "GET";
  r.ts_ns = ts;
  return r;
}

// 20 clients each sending every 250 ms for `seconds` from `start`.
void burst(RetryStormDetector& d, uint64_t start, double seconds, int status,
           const char* method = "POST") {
  for (uint64_t t = start; t < start + static_cast<uint64_t>(seconds * kSec); t += kSec / 4)
    for (int c = 0; c < 20; ++c) d.on_request(req(t + c * 1000, c, status, method));
}

bool active(const RetryStormDetector& d) {
  auto it = d.locations().find({"shop", "/pay/"});
  return it != d.locations().end() && it->second.active;
}

TEST(RetryStorm, FailingRetriesFromManyClientsStartAStormWithinASecond) {
  RetryStormDetector d;
  burst(d, 100 * kSec, 0.75, 503);  // 3 rounds: 40 retries
  ASSERT_TRUE(active(d));
  auto f = d.findings();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, "retry_storm");
  EXPECT_EQ(f[0].severity, "critical");             // POST: duplicate-processing risk
  EXPECT_EQ(f[0].onset_ns, 100 * kSec + kSec / 4);  // the first repeat
  EXPECT_NE(f[0].evidence.find("from 20 clients"), std::string::npos) << f[0].evidence;
  EXPECT_NE(f[0].evidence.find("non-idempotent"), std::string::npos);
}

TEST(RetryStorm, SampledSuccessesCountWithTheirWeight) {
  // Above the kernel's sampling rate one success in k is reported, with weight k, and
  // failures one by one. Counted once each, the few sampled successes would make the
  // failing retries look like almost all of the traffic.
  for (uint32_t weight : {1u, 1000u}) {
    RetryStormDetector d;
    for (uint64_t t = 100 * kSec; t < 100 * kSec + 3 * kSec / 4; t += kSec / 4) {
      for (int c = 0; c < 20; ++c) d.on_request(req(t + c * 1000, c, 503));
      RequestObservation ok = req(t + 50000, 99, 200);
      ok.weight = weight;
      d.on_request(ok);
    }
    EXPECT_EQ(active(d), weight == 1) << "weight " << weight;
  }
}

TEST(RetryStorm, HealthyBurstOfTheSameSizeIsNotAStorm) {
  RetryStormDetector d;
  burst(d, 100 * kSec, 4, 200);
  d.tick(105 * kSec);
  EXPECT_FALSE(active(d));
  EXPECT_TRUE(d.findings().empty());
}

TEST(RetryStorm, IdempotentStormIsAWarning) {
  RetryStormDetector d;
  burst(d, 100 * kSec, 1, 502, "GET");
  ASSERT_TRUE(active(d));
  EXPECT_EQ(d.findings()[0].severity, "warning");
}

TEST(RetryStorm, EndsWhenThePatternStopsAndCountsItsRequests) {
  RetryStormDetector d;
  burst(d, 100 * kSec, 3, 503);
  ASSERT_TRUE(active(d));
  d.tick(104 * kSec);
  EXPECT_TRUE(active(d));  // the window still holds the retries
  d.tick(109 * kSec);
  EXPECT_FALSE(active(d));
  auto f = d.findings();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_FALSE(f[0].active);
  // 12 rounds of 20; the first round is no retry.
  EXPECT_EQ(d.locations().at({"shop", "/pay/"}).storm_requests, 220u);
}

TEST(RetryStorm, FailuresWithoutRepeatsAreNotAStorm) {
  RetryStormDetector d;
  // 80 distinct clients failing once each within a second: an outage, not retries.
  for (int c = 0; c < 80; ++c) d.on_request(req(100 * kSec + c * kSec / 80, c, 503));
  EXPECT_FALSE(active(d));
}

TEST(RetryStorm, RateMustBeFarAboveTheLocationsOwnBaseline) {
  RetryStormOptions o;
  RetryStormDetector d(o);
  // A location that always runs at 80 req/s with 20 clients, mostly succeeding...
  burst(d, 100 * kSec, 50, 200);
  // ...then the same rate failing with repeats: ratio is high, the rate is not above
  // 3x its baseline, so no storm.
  burst(d, 150 * kSec, 2, 503);
  EXPECT_FALSE(active(d));
}

TEST(RetryStorm, FewRetriesAreBelowThreshold) {
  RetryStormDetector d;
  for (int i = 0; i < 6; ++i) d.on_request(req(100 * kSec + i * kSec / 2, 1, 503));
  EXPECT_FALSE(active(d));  // 5 retries < 8
}

// ---- worker exhaustion ----

struct FakeView : ConfigView {
  std::optional<Place> for_client_request(const ngxw_endpoint&, std::string_view,
                                          std::string_view) const override {
    return Place{"", "exhaust", "/"};
  }
  std::optional<Place> for_upstream_request(const std::string&, std::string_view) const override {
    return std::nullopt;
  }
  std::string upstream_for_peer(const std::string&) const override { return ""; }
  Timeouts timeouts(const Place&) const override { return {}; }
  std::optional<int> worker_connections() const override { return 16; }
  std::vector<std::pair<std::string, std::string>> temp_paths() const override {
    return {{"client_body", "/var/tmp/body"}, {"proxy", "/var/tmp/proxy"}};
  }
};

struct Failures : ObservationSink {
  std::vector<FailureObservation> got;
  void on_reset(const ResetObservation&) override {}
  void on_failure(const FailureObservation& f) override { got.push_back(f); }
  void on_client_visible(const ClientStatusObservation&) override {}
  void on_retry_absorbed(const Place&) override {}
};

ngxw_conn_event conn(uint16_t type, uint64_t sock, uint32_t tgid, uint64_t ts, uint64_t opened,
                     uint64_t recv = 0, uint8_t origin = NGXW_ORIGIN_NGINX) {
  ngxw_conn_event e{};
  e.hdr.version = NGXW_EVENT_VERSION;
  e.hdr.type = type;
  e.hdr.tgid = tgid;
  e.hdr.ts_ns = ts;
  e.sock_id = sock;
  e.side = NGXW_SIDE_CLIENT;
  e.origin = origin;
  e.stats.opened_ns = opened;
  e.stats.bytes_recv = recv;
  return e;
}

ngxw_data_event data(uint64_t sock, uint32_t tgid, uint64_t ts) {
  ngxw_data_event d{};
  d.hdr.type = NGXW_EV_DATA;
  d.hdr.tgid = tgid;
  d.hdr.ts_ns = ts;
  d.sock_id = sock;
  d.side = NGXW_SIDE_CLIENT;
  return d;
}

TEST(WorkerExhaustion, RatioOfTheBusiestWorkerAndRefusals) {
  FakeView view;
  SingleConfig configs(&view);
  Failures out;
  WorkerExhaustionDetector d(&out);
  d.set_configs(&configs);
  const uint32_t master = 10, w1 = 11, w2 = 12;
  // 16 accepted (the listener is the master's), 15 read by worker 1, 1 by worker 2.
  for (uint64_t s = 1; s <= 16; ++s) {
    d.on_event(conn(NGXW_EV_CONN_OPEN, s, master, s * 1000, s * 1000));
    d.on_event(data(s, s <= 15 ? w1 : w2, s * 1000 + 500));
  }
  d.tick(kSec);
  EXPECT_EQ(d.open(w1), 15u);
  EXPECT_EQ(d.open(master), 0u);
  EXPECT_DOUBLE_EQ(d.busiest_ratio(), 15.0 / 16);
  EXPECT_EQ(d.busiest_tgid(), w1);
  ASSERT_EQ(d.findings().size(), 1u);
  EXPECT_EQ(d.findings()[0].severity, "warning");  // full-ish, nothing refused yet

  // Accepted and closed by nginx unread 200 us later: refused.
  d.on_event(conn(NGXW_EV_CONN_OPEN, 100, master, 2 * kSec, 2 * kSec));
  d.on_event(conn(NGXW_EV_CONN_CLOSE, 100, master, 2 * kSec + 200000, 2 * kSec));
  // Not refusals: the client closed first; nginx closed after reading; a timeout.
  d.on_event(conn(NGXW_EV_CONN_CLOSE, 101, master, 2 * kSec + 1000, 2 * kSec, 0, NGXW_ORIGIN_PEER));
  d.on_event(conn(NGXW_EV_CONN_CLOSE, 102, w1, 2 * kSec + 1000, 2 * kSec, 80));
  d.on_event(conn(NGXW_EV_CONN_CLOSE, 103, w1, 2 * kSec + 2000, kSec));
  EXPECT_EQ(d.refused(), 1u);
  ASSERT_EQ(out.got.size(), 1u);
  EXPECT_EQ(out.got[0].cause, "worker_connections_exhausted");
  EXPECT_EQ(out.got[0].place.server, "exhaust");
  // Both numbers the verdict rests on are in its evidence.
  EXPECT_NE(out.got[0].evidence.find("held 15 of worker_connections 16"), std::string::npos)
      << out.got[0].evidence;
  d.tick(3 * kSec);
  EXPECT_EQ(d.findings()[0].severity, "critical");

  // Everyone leaves: the finding ends once the refusals age out.
  for (uint64_t s = 1; s <= 16; ++s)
    d.on_event(
        conn(NGXW_EV_CONN_CLOSE, s, s <= 15 ? w1 : w2, 4 * kSec, s * 1000, 10, NGXW_ORIGIN_PEER));
  d.tick(20 * kSec);
  EXPECT_DOUBLE_EQ(d.busiest_ratio(), 0);
  EXPECT_FALSE(d.findings()[0].active);
}

TEST(WorkerExhaustion, ClosedUnreadFarFromTheLimitIsNotExhaustion) {
  // An upload reset upstream: nginx answers 502 and closes while a handful of
  // connections are open; a connection it closes unread then is not a refusal.
  FakeView view;
  SingleConfig configs(&view);
  Failures out;
  WorkerExhaustionDetector d(&out);
  d.set_configs(&configs);
  for (uint64_t s = 1; s <= 3; ++s) {
    d.on_event(conn(NGXW_EV_CONN_OPEN, s, 10, s * 1000, s * 1000));
    d.on_event(data(s, 11, s * 1000 + 500));
  }
  d.on_event(conn(NGXW_EV_CONN_OPEN, 100, 10, 2 * kSec, 2 * kSec));
  d.on_event(conn(NGXW_EV_CONN_CLOSE, 100, 10, 2 * kSec + 200000, 2 * kSec));
  EXPECT_EQ(d.refused(), 0u);
  EXPECT_TRUE(out.got.empty());
  // And without a known worker_connections nothing can be judged.
  WorkerExhaustionDetector blind(&out);
  blind.on_event(conn(NGXW_EV_CONN_OPEN, 100, 10, 2 * kSec, 2 * kSec));
  blind.on_event(conn(NGXW_EV_CONN_CLOSE, 100, 10, 2 * kSec + 200000, 2 * kSec));
  EXPECT_EQ(blind.refused(), 0u);
}

// ---- temp dir ----

ngxw_temp_event temp(uint64_t ts, uint64_t client, uint64_t upstream, int64_t ret,
                     const char* name) {
  ngxw_temp_event e{};
  e.hdr.type = NGXW_EV_TEMP;
  e.hdr.ts_ns = ts;
  e.client_sock_id = client;
  e.upstream_sock_id = upstream;
  e.ret = ret;
  std::strncpy(e.name, name, sizeof e.name - 1);
  return e;
}

TEST(TempDir, SpooledBytesByLocationFreeSpaceEtaAndFailures) {
  FakeView view;
  SingleConfig configs(&view);
  Failures out;
  uint64_t free_bytes = 100 << 20;
  TempDirDetector d(&out, {}, [&](const std::string&) {
    return std::optional<FsSpace>(FsSpace{free_bytes, 100 << 20});
  });
  d.set_configs(&configs);
  d.set_place_of([](uint64_t sock) -> std::optional<Place> {
    if (sock == 1) return Place{"app", "shop", "/upload/"};
    if (sock == 2) return Place{"app", "shop", "/files/"};
    return std::nullopt;
  });
  d.tick(10 * kSec);
  EXPECT_FALSE(d.paths().at("/var/tmp/body").eta_s);  // not filling
  d.on_event(temp(11 * kSec, 1, 2, 8192, "/var/tmp/body/0000000001"));
  d.on_event(temp(11 * kSec, 1, 2, 8192, "/var/tmp/body/0000000001"));
  d.on_event(temp(11 * kSec, 1, 2, 65536, "/var/tmp/proxy/2/00/0000000002"));
  d.on_event(temp(11 * kSec, 1, 2, 100, "/elsewhere/x"));  // not a temp path: ignored
  EXPECT_EQ((d.spooled().at({"shop", "/upload/", "client_body"})), 16384u);
  EXPECT_EQ((d.spooled().at({"shop", "/files/", "proxy"})), 65536u);
  EXPECT_EQ(d.spooled().size(), 2u);

  // 10 MiB/s of net fill: 90 MiB left -> 9 s.
  free_bytes = 90 << 20;
  d.tick(11 * kSec);
  const auto& p = d.paths().at("/var/tmp/body");
  ASSERT_TRUE(p.eta_s);
  EXPECT_NEAR(*p.eta_s, 9.0, 0.01);
  EXPECT_EQ(p.space->free_bytes, 90u << 20);
  auto f = d.findings();
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f[0].kind, "temp_dir_fill");
  EXPECT_EQ(f[0].severity, "critical");  // full within a minute

  // A failed write (NGX_ERROR) is a temp_file_error at the request's location;
  // NGX_AGAIN (-2) is not.
  d.on_event(temp(12 * kSec, 1, 2, -1, "/var/tmp/body/0000000003"));
  d.on_event(temp(12 * kSec, 1, 2, -2, "/var/tmp/body/0000000003"));
  ASSERT_EQ(out.got.size(), 1u);
  EXPECT_EQ(out.got[0].cause, "temp_file_error");
  EXPECT_EQ(out.got[0].place.location, "/upload/");
  EXPECT_EQ(d.paths().at("/var/tmp/body").errors, 1u);

  // Space comes back and stays: the finding ends after the error window.
  free_bytes = 100 << 20;
  for (uint64_t t = 13; t <= 80; ++t) d.tick(t * kSec);
  EXPECT_FALSE(d.paths().at("/var/tmp/body").eta_s);
  for (const auto& x : d.findings()) EXPECT_FALSE(x.active) << x.evidence;
}

}  // namespace
}  // namespace ngxwatch
