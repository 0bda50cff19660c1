// The suggest rules on hand-built measurements and a parsed configuration, the
// measurements' JSON round trip, and nginx -t refusing a change it rejects.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>

#include "advise/suggest.h"
#include "advise/suggest_report.h"
#include "host/verify.h"
#include "nginx/nginx_config.h"

namespace ngxwatch::advise {
namespace {

const char* kDump =
    "# configuration file /etc/nginx/nginx.conf:\n"
    "events { worker_connections 512; }\n"
    "http {\n"
    "    upstream app { server 127.0.0.1:9001; keepalive 8; }\n"
    "    upstream plain { server 127.0.0.1:9002; }\n"
    "    proxy_set_header Host $host;\n"
    "    server {\n"
    "        listen 127.0.0.1:8080;\n"
    "        server_name shop.test;\n"
    "        location /api/ {\n"
    "            proxy_read_timeout 2s;\n"
    "            proxy_pass http://app;\n"
    "            proxy_http_version 1.1;\n"
    "            proxy_set_header Connection \"\";\n"
    "        }\n"
    "        location /upload/ { proxy_request_buffering off; proxy_pass http://plain; }\n"
    "        location /churn/ { proxy_pass http://app; }\n"
    "    }\n"
    "}\n";

nginx::Config config() { return nginx::load_from_dump(kDump); }

const Suggestion* find(const std::vector<Suggestion>& all, const std::string& id) {
  for (const Suggestion& s : all)
    if (s.id == id) return &s;
  return nullptr;
}

TEST(Suggest, KeepaliveRaceSetsUpstreamTimeoutBelowMeasuredIdle) {
  Measurements m;
  UpstreamMeasurements& up = m.upstream("app");
  for (double idle : {4.9, 5.0, 5.1}) up.keepalive_race_idle_s.add(idle);
  up.keepalive_race_clients_failed = 1;
  auto all = suggest(m, config());
  const Suggestion* s = find(all, "keepalive-timeout");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->edits.size(), 1u);
  EXPECT_EQ(s->edits[0].kind, Edit::Kind::kInsert);
  EXPECT_EQ(s->edits[0].line, 3);
  EXPECT_EQ(s->edits[0].value, "4s");
  EXPECT_NE(s->evidence.find("3 requests on reused keepalive connections to app"),
            std::string::npos)
      << s->evidence;
  EXPECT_NE(s->evidence.find("after 4.90–5.10 s idle"), std::string::npos) << s->evidence;
  EXPECT_NE(s->evidence.find("keepalive_timeout is 60s (default)"), std::string::npos);
}

TEST(Suggest, ReadTimeoutRaisedWhenNormalLatencyReachesIt) {
  Measurements m;
  LocationMeasurements& l = m.location("shop.test", "/api/");
  l.upstream = "app";
  l.read_timeouts = 4;
  for (double d : {0.4, 1.2, 1.6}) l.ok_durations.add(d);
  auto all = suggest(m, config());
  const Suggestion* s = find(all, "read-timeout");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->edits.size(), 1u);
  EXPECT_EQ(s->edits[0].kind, Edit::Kind::kSet);  // the location's own directive
  EXPECT_EQ(s->edits[0].line, 10);
  EXPECT_EQ(s->edits[0].value, "4s");
  EXPECT_TRUE(s->backend_fix.empty());
  EXPECT_NE(s->evidence.find("proxy_read_timeout is 2s (at /etc/nginx/nginx.conf:10)"),
            std::string::npos)
      << s->evidence;
}

TEST(Suggest, ReadTimeoutWithFastSuccessesBlamesTheBackend) {
  Measurements m;
  LocationMeasurements& l = m.location("shop.test", "/api/");
  l.upstream = "app";
  l.read_timeouts = 2;
  for (double d : {0.01, 0.02, 0.05}) l.ok_durations.add(d);
  auto all = suggest(m, config());
  const Suggestion* s = find(all, "read-timeout");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->edits.empty());
  EXPECT_NE(s->backend_fix.find("stops answering"), std::string::npos);
}

TEST(Suggest, BodySizeFromMeasuredBodies) {
  Measurements m;
  LocationMeasurements& l = m.location("shop.test", "/upload/");
  l.body_too_large.add(180.0 * 1024 * 1024);
  l.max_body_ok = 1000;
  auto all = suggest(m, config());
  const Suggestion* s = find(all, "body-size");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->edits.size(), 1u);
  EXPECT_EQ(s->edits[0].kind, Edit::Kind::kInsert);  // the default applied: scope it here
  EXPECT_EQ(s->edits[0].value, "256m");              // 1.25 x 180 MiB = 225 -> 256
  EXPECT_NE(s->evidence.find("180 MiB"), std::string::npos) << s->evidence;
  EXPECT_NE(s->evidence.find("client_max_body_size 1m (default)"), std::string::npos);
}

TEST(Suggest, BackendCuttingBodiesIsFixedThereAndBufferingTurnedOn) {
  Measurements m;
  LocationMeasurements& l = m.location("shop.test", "/upload/");
  l.upstream = "plain";
  l.reset_sending_body.add(5.0 * 1024 * 1024);
  l.failed_after_cut = 1;
  auto all = suggest(m, config());
  const Suggestion* s = find(all, "backend-cut-body");
  ASSERT_NE(s, nullptr);
  EXPECT_NE(s->backend_fix.find("above 5.0 MiB"), std::string::npos) << s->backend_fix;
  ASSERT_EQ(s->edits.size(), 1u);
  EXPECT_EQ(s->edits[0].target_name, "proxy_request_buffering");
  EXPECT_EQ(s->edits[0].value, "on");
}

TEST(Suggest, ChurnAddsHttp11AndConnectionHeaderAtTheLevelDefiningTheList) {
  Measurements m;
  LocationMeasurements& l = m.location("shop.test", "/churn/");
  l.upstream = "app";
  l.requests = 500;
  l.first_ts_ns = 1'000'000'000;
  l.last_ts_ns = 11'000'000'000;
  auto all = suggest(m, config());
  const Suggestion* s = find(all, "keepalive-churn");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->edits.size(), 2u);
  EXPECT_EQ(s->edits[0].name, "proxy_http_version");
  // proxy_set_header comes from http: adding one in the location would drop Host.
  EXPECT_EQ(s->edits[1].kind, Edit::Kind::kInsertAfter);
  EXPECT_EQ(s->edits[1].line, 5);
  EXPECT_NE(s->evidence.find("500 requests"), std::string::npos) << s->evidence;
  // Below the threshold, or with keepalive already in use: nothing.
  l.requests = 5;
  EXPECT_EQ(find(suggest(m, config()), "keepalive-churn"), nullptr);
  m.location("shop.test", "/api/").requests = 500;
  EXPECT_EQ(find(suggest(m, config()), "keepalive-churn"), nullptr);
}

TEST(Measurements, RoundTripsThroughJson) {
  Measurements m;
  FailureObservation race;
  race.place = {"app", "shop.test", "/api/"};
  race.cause = "keepalive_race";
  race.keepalive_idle_s = 5.0;
  m.on_failure(race);
  RequestObservation r;
  r.place = race.place;
  r.status = 200;
  r.content_length = 4096;
  r.duration_s = 0.25;
  m.on_request(r);
  Measurements back = Measurements::from_json(nlohmann::json::parse(m.to_json().dump()));
  EXPECT_EQ(back.to_json(), m.to_json());
  const LocationMeasurements& l = back.locations().at({"shop.test", "/api/"});
  EXPECT_EQ(l.keepalive_races, 1u);
  EXPECT_EQ(l.max_body_ok, 4096u);
  EXPECT_DOUBLE_EQ(l.ok_durations.max_s, 0.25);
  EXPECT_EQ(back.upstreams().at("app").keepalive_race_idle_s.count, 1u);
}

TEST(Measurements, RequestTotalsCountSampledRequestsWithTheirWeight) {
  // One request reported for every 25 (kernel sampling) counts as 25 in the totals;
  // its status and body are its own.
  Measurements m;
  RequestObservation r;
  r.place = {"app", "shop.test", "/api/"};
  r.status = 503;
  r.weight = 25;
  m.on_request(r);
  r.weight = 1;
  m.on_request(r);
  const LocationMeasurements& l = m.locations().at({"shop.test", "/api/"});
  EXPECT_EQ(l.requests, 26u);
  EXPECT_EQ(l.status_5xx, 2u);
  EXPECT_EQ(m.upstreams().at("app").requests, 26u);
}

// nginx -t on the copy must refuse what nginx would refuse, and say nginx's words.
TEST(Verify, RefusesAChangeNginxRejects) {
  if (::access("/usr/sbin/nginx", X_OK) != 0) GTEST_SKIP() << "no /usr/sbin/nginx";
  char tmpl[] = "/tmp/ngxwatch-verify-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::string main = dir + "/nginx.conf";
  FileSet files = {
      {main, "error_log " + dir + "/error.log;\npid " + dir +
                 "/nginx.pid;\nevents {}\nhttp {\n    include more.conf;\n}\n"},
      {dir + "/more.conf", "server { listen 127.0.0.1:1; location / { return 204; } }\n"}};
  VerifyOptions options{"/usr/sbin/nginx", dir};
  Suggestion good{"t", "t", "e", main, 4, {}, "", "", "", ""};
  good.edits.push_back({Edit::Kind::kInsert, main, 4, "http", {}, "keepalive_timeout", "10s"});
  Suggestion bad = good;
  bad.edits[0].value = "ten seconds";
  SuggestReport r = check_suggestions({good, bad}, files, main, options);
  ASSERT_TRUE(r.config_error.empty()) << r.config_error;
  ASSERT_EQ(r.items.size(), 2u);
  EXPECT_TRUE(r.items[0].refused.empty()) << r.items[0].refused;
  EXPECT_NE(r.items[0].diff.find("+    keepalive_timeout 10s;"), std::string::npos)
      << r.items[0].diff;
  EXPECT_TRUE(r.items[1].diff.empty());
  EXPECT_NE(r.items[1].refused.find("nginx -t rejects the change"), std::string::npos);
  EXPECT_NE(r.items[1].refused.find(main), std::string::npos) << r.items[1].refused;
  EXPECT_FALSE(r.ok());
  // A configuration nginx rejects as it is: nothing can be verified.
  files[dir + "/more.conf"] = "server { listen 127.0.0.1:1; bogus_directive on; }\n";
  r = check_suggestions({good}, files, main, options);
  EXPECT_NE(r.config_error.find("bogus_directive"), std::string::npos) << r.config_error;
  EXPECT_TRUE(r.items.empty());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ngxwatch::advise
