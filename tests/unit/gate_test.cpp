// ngxwatch gate's pure parts: thresholds, the JUnit report (hostile bytes stay valid
// XML, query strings stay redacted) and the verdict from two daemon snapshots.
#include <gtest/gtest.h>

#include "api/live_stats.h"
#include "gate/gate_junit.h"
#include "gate/gate_snapshot.h"
#include "gate/gate_thresholds.h"

namespace ngxwatch::gate {
namespace {

GateReport one_failing_location() {
  GateReport r;
  r.load_command = {"k6", "run", "upload.js"};
  LocationReport& l = r.location("uploads.example", "/upload/");
  l.requests = 10;
  l.failures.push_back({"upload_backend", "upstream_reset_sending_body", "send_request", 4, 0,
                        "RST after 65536 of 8388608 bytes", "POST /upload/a?token=secret"});
  l.client_errors[502] = 4;
  r.location("uploads.example", "/ok/").requests = 10;
  return r;
}

TEST(GateThresholds, ClientErrorsOverTheAllowanceFail) {
  GateReport r = one_failing_location();
  Thresholds t;
  EXPECT_EQ(run_reasons(r, t).size(), 1u);
  t.max_client_errors = 4;
  EXPECT_TRUE(run_reasons(r, t).empty());
  t.fail_on = {"upstream_reset_sending_body"};
  ASSERT_EQ(run_reasons(r, t).size(), 1u);
  EXPECT_NE(run_reasons(r, t)[0].find("--fail-on upstream_reset_sending_body"), std::string::npos);
  t.fail_on = {"keepalive_race"};
  EXPECT_TRUE(run_reasons(r, t).empty());
}

TEST(GateThresholds, UnknownCauseIsOneLine) {
  std::string error;
  EXPECT_TRUE(parse_causes("keepalive_race,bogus", &error).empty());
  EXPECT_NE(error.find("unknown cause \"bogus\""), std::string::npos);
  error.clear();
  EXPECT_EQ(parse_causes("keepalive_race,read_timeout", &error).size(), 2u);
  EXPECT_TRUE(error.empty());
}

TEST(GateJunit, OneCasePerLocationAndOnlyTheCrossedOneFails) {
  GateReport r = one_failing_location();
  Thresholds t;
  std::string xml = format_junit(r, t, run_reasons(r, t));
  EXPECT_NE(xml.find("tests=\"3\" failures=\"1\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("classname=\"uploads.example\" name=\"/upload/\""), std::string::npos);
  EXPECT_NE(xml.find("type=\"upstream_reset_sending_body\""), std::string::npos);
  EXPECT_EQ(xml.find("secret"), std::string::npos) << "query strings are redacted";
}

TEST(GateJunit, HostileBytesStayValidXml) {
  std::string s = "a<b>&\"'\x01\x7f\xff\xc3\xa9";
  EXPECT_EQ(xml_escape(s), "a&lt;b&gt;&amp;&quot;&apos;\xef\xbf\xbd\xc3\xa9");
}

TEST(GateSnapshot, TheDifferenceOfTwoSnapshotsIsTheRun) {
  uint64_t now = 1000;
  LiveStats live([&now] { return now; });
  FailureObservation f;
  f.place = {"upload_backend", "uploads.example", "/upload/"};
  f.phase = "send_request";
  f.cause = "upstream_reset_sending_body";
  f.evidence = "before";
  RequestObservation req;
  req.place = f.place;
  live.on_failure(f);
  live.on_request(req);
  live.on_client_visible({f.place, 502});
  nlohmann::json before = live.snapshot();
  now += 5000;
  f.evidence = "during";
  for (int i = 0; i < 3; ++i) {
    live.on_failure(f);
    live.on_client_visible({f.place, 502});
  }
  for (int i = 0; i < 7; ++i) live.on_request(req);
  GateReport r = from_snapshots(before, live.snapshot());
  ASSERT_EQ(r.locations.size(), 1u);
  const LocationReport& l = r.locations[0];
  EXPECT_EQ(l.requests, 7u);
  ASSERT_EQ(l.failures.size(), 1u);
  EXPECT_EQ(l.failures[0].count, 3u);
  EXPECT_EQ(l.failures[0].evidence, "during");
  EXPECT_EQ(l.client_error_total(), 3u);
  EXPECT_EQ(r.requests, 7u);
}

}  // namespace
}  // namespace ngxwatch::gate
