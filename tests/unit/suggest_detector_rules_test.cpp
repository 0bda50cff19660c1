// The rules fed by the detectors (retry storm -> limit_req, worker exhaustion ->
// worker_connections, full body temp path -> request buffering off) on hand-built
// measurements and a parsed configuration: where each edit goes (http{}, events{},
// the main context, the location), the sizes derived from the numbers, and the whole
// change accepted by nginx -t on a copy.
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

// A configuration nginx -t accepts as it is, under `dir`.
std::string dump(const std::string& dir, const std::string& main_extra = "") {
  return "# configuration file " + dir + "/nginx.conf:\n" + "error_log " + dir +
         "/error.log;\n"
         "pid " +
         dir + "/nginx.pid;\n" + main_extra +
         "events {\n"
         "    worker_connections 64;\n"
         "}\n"
         "http {\n"
         "    upstream app { server 127.0.0.1:9001; }\n"
         "    server {\n"
         "        listen 127.0.0.1:1;\n"
         "        server_name shop.test;\n"
         "        location /api/v1/ {\n"
         "            proxy_pass http://app;\n"
         "        }\n"
         "        location /upload/ { client_body_temp_path " +
         dir + "/body; proxy_pass http://app; }\n" +
         "    }\n"
         "}\n";
}

const Suggestion* find(const std::vector<Suggestion>& all, const std::string& id) {
  for (const Suggestion& s : all)
    if (s.id == id) return &s;
  return nullptr;
}

class DetectorRules : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ngxwatch-rules-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Every suggestion through apply + nginx -t; the one with `id` must pass it.
  std::string verified_diff(const Measurements& m, const nginx::Config& c, const std::string& id) {
    if (::access("/usr/sbin/nginx", X_OK) != 0) return "";
    SuggestReport r = run_suggest(m, c, VerifyOptions{"/usr/sbin/nginx", dir_});
    EXPECT_TRUE(r.config_error.empty()) << r.config_error;
    for (const CheckedSuggestion& cs : r.items)
      if (cs.suggestion.id == id) {
        EXPECT_TRUE(cs.refused.empty()) << cs.refused;
        return cs.diff;
      }
    ADD_FAILURE() << "no " << id;
    return "";
  }
  std::string dir_;
};

TEST_F(DetectorRules, StormLimitsRatePerClientFromTheBaseline) {
  nginx::Config c = nginx::load_from_dump(dump(dir_));
  Measurements m;
  LocationMeasurements& l = m.location("shop.test", "/api/v1/");
  l.ok_clients = 4;
  l.client_peak_per_s = 6;
  l.storm = {1, 12000000000ull, 85.0, 6.0, 12, 0.9, true};
  auto all = suggest(m, c);
  const Suggestion* s = find(all, "rate-limit");
  ASSERT_NE(s, nullptr);
  // 6 req/s over 4 clients = 1.5 per client; twice that, rounded up: 3 r/s.
  ASSERT_EQ(s->edits.size(), 3u);
  EXPECT_EQ(s->edits[0].kind, Edit::Kind::kInsert);
  EXPECT_EQ(s->edits[0].target_name, "http");
  EXPECT_EQ(s->edits[0].value, "$binary_remote_addr zone=ngxw_api_v1:10m rate=3r/s");
  EXPECT_EQ(s->edits[1].target_name, "location");
  EXPECT_EQ(s->edits[1].value, "zone=ngxw_api_v1 burst=6 nodelay");
  EXPECT_EQ(s->edits[2].name, "limit_req_status");
  for (const char* want : {"85.0 req/s", "baseline of 6.00 req/s", "12 clients", "90% failing",
                           "onset at 12.0 s", "non-idempotent"})
    EXPECT_NE(s->evidence.find(want), std::string::npos) << want << ": " << s->evidence;
  std::string diff = verified_diff(m, c, "rate-limit");
  if (!diff.empty()) {
    EXPECT_NE(diff.find("+    limit_req_zone $binary_remote_addr zone=ngxw_api_v1:10m rate=3r/s;"),
              std::string::npos)
        << diff;
    EXPECT_NE(diff.find("+            limit_req zone=ngxw_api_v1 burst=6 nodelay;"),
              std::string::npos)
        << diff;
  }
}

TEST_F(DetectorRules, NoStormNoRateLimit) {
  Measurements m;
  m.location("shop.test", "/api/v1/").requests = 1000;
  EXPECT_EQ(find(suggest(m, nginx::load_from_dump(dump(dir_))), "rate-limit"), nullptr);
}

TEST_F(DetectorRules, WorkerExhaustionRaisesConnectionsAndDescriptorsInMain) {
  nginx::Config c = nginx::load_from_dump(dump(dir_));
  Measurements m;
  m.workers() = {1.0, 60, 64, 17};
  auto all = suggest(m, c);
  const Suggestion* s = find(all, "worker-connections");
  ASSERT_NE(s, nullptr);
  // Refusals: demand reached the limit (64) -> 2 x 64 = 128.
  ASSERT_EQ(s->edits.size(), 2u);
  EXPECT_EQ(s->edits[0].kind, Edit::Kind::kSet);
  EXPECT_EQ(s->edits[0].line, 4);
  EXPECT_EQ(s->edits[0].value, "128");
  EXPECT_EQ(s->edits[1].kind, Edit::Kind::kInsertBefore);  // main: before events {
  EXPECT_EQ(s->edits[1].line, 3);
  EXPECT_EQ(s->edits[1].value, "256");
  EXPECT_NE(s->evidence.find("17 accepted connections were closed unread"), std::string::npos);
  EXPECT_NE(s->evidence.find("100%"), std::string::npos) << s->evidence;
  std::string diff = verified_diff(m, c, "worker-connections");
  if (!diff.empty()) {
    EXPECT_NE(diff.find("+worker_rlimit_nofile 256;\n events {"), std::string::npos) << diff;
    EXPECT_NE(diff.find("+    worker_connections 128;"), std::string::npos) << diff;
  }
}

TEST_F(DetectorRules, WorkerRuleSetsAnExistingLowRlimitAndSizesFromThePeak) {
  nginx::Config c = nginx::load_from_dump(dump(dir_, "worker_rlimit_nofile 100;\n"));
  Measurements m;
  m.workers() = {0.95, 61, 64, 0};  // nearly full, nothing refused yet
  const Suggestion* s = nullptr;
  auto all = suggest(m, c);
  s = find(all, "worker-connections");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->edits.size(), 2u);
  EXPECT_EQ(s->edits[0].value, "128");  // next power of two >= 2 x 61
  EXPECT_EQ(s->edits[1].kind, Edit::Kind::kSet);
  EXPECT_EQ(s->edits[1].line, 3);
  // Below the warning ratio and nothing refused: no change.
  m.workers() = {0.5, 32, 64, 0};
  EXPECT_EQ(find(suggest(m, c), "worker-connections"), nullptr);
}

TEST_F(DetectorRules, FullBodyTempPathTurnsRequestBufferingOff) {
  nginx::Config c = nginx::load_from_dump(dump(dir_));
  Measurements m;
  LocationMeasurements& l = m.location("shop.test", "/upload/");
  l.upstream = "app";
  l.temp_file_errors = 2;
  l.spooled_bytes = 6 << 20;
  l.max_body = 3 << 20;
  l.peak_concurrent_body = 12 << 20;
  m.temp_path(dir_ + "/body") = {"client_body", 2, 4096, 8 << 20};
  auto all = suggest(m, c);
  const Suggestion* s = find(all, "request-buffering");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->edits.size(), 1u);
  EXPECT_EQ(s->edits[0].kind, Edit::Kind::kInsert);
  EXPECT_EQ(s->edits[0].name, "proxy_request_buffering");
  EXPECT_EQ(s->edits[0].value, "off");
  for (std::string want :
       {std::string("2 request bodies"), "client_body_temp_path " + dir_ + "/body",
        std::string("4.0 KiB free of 8.0 MiB"), std::string("6.0 MiB"),
        std::string("12.0 MiB in flight"), std::string("at least 24.0 MiB"),
        std::string("cannot retry")})
    EXPECT_NE(s->evidence.find(want), std::string::npos) << want << ": " << s->evidence;
  std::string diff = verified_diff(m, c, "request-buffering");
  if (!diff.empty()) {
    EXPECT_NE(
        diff.find(
            "+        location /upload/ { proxy_request_buffering off; client_body_temp_path"),
        std::string::npos)
        << diff;
  }
  // Spooled without a failed write: nothing to fix.
  l.temp_file_errors = 0;
  EXPECT_EQ(find(suggest(m, c), "request-buffering"), nullptr);
}

TEST(DetectorMeasurements, BodiesInFlightAndPerClientPeak) {
  Measurements m;
  auto req = [&](const std::string& client, double start, double dur, uint64_t body, int status) {
    RequestObservation r;
    r.place = {"app", "s", "/u/"};
    r.client = client;
    r.status = status;
    r.ts_ns = static_cast<uint64_t>(start * 1e9);
    r.duration_s = dur;
    if (body) r.content_length = body;
    m.on_request(r);
  };
  // Reported in finishing order: the long first upload covers the later starts.
  req("a", 10.4, 0.1, 100, 200);
  req("b", 10.0, 3.0, 1000, 200);
  req("a", 10.5, 0.1, 10, 200);
  req("c", 20.0, 1.0, 5000, 500);  // alone, and failed: not a client's good answer
  const LocationMeasurements& l = m.locations().at({"s", "/u/"});
  EXPECT_EQ(l.peak_concurrent_body, 5000u);
  EXPECT_EQ(l.ok_clients, 2u);
  EXPECT_EQ(l.client_peak_per_s, 2u);
  req("d", 30.0, 2.0, 3000, 200);
  req("e", 30.5, 0.2, 2500, 200);
  EXPECT_EQ(m.locations().at({"s", "/u/"}).peak_concurrent_body, 5500u);
  m.workers() = {0.5, 3, 6, 1};
  m.temp_path("/t") = {"proxy", 1, -1, -1};
  m.location("s", "/u/").storm.count = 1;
  Measurements back = Measurements::from_json(nlohmann::json::parse(m.to_json().dump()));
  EXPECT_EQ(back.to_json(), m.to_json());
}

}  // namespace
}  // namespace ngxwatch::advise
