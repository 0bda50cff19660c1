// The daemon's live `suggest`: the report cache (one computation per period, however
// often top asks), the API's {"get":"suggest"} next to the rejected requests, the
// per-row look-up for top's snapshot, and the report's JSON round trip that
// `suggest --api-socket` prints from.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "advise/config_choice.h"
#include "advise/suggest.h"
#include "host/live_suggest.h"
#include "api/api_request.h"
#include "nginx/nginx_config.h"

namespace ngxwatch::advise {
namespace {

using nlohmann::json;

CheckedSuggestion item(std::string id, std::string server, std::string location,
                       std::string upstream, std::string diff) {
  CheckedSuggestion c;
  c.suggestion.id = id;
  c.suggestion.title = "title of " + id;
  c.suggestion.evidence = std::string(500, 'x') + " measured 42";
  c.suggestion.server = std::move(server);
  c.suggestion.location = std::move(location);
  c.suggestion.upstream = std::move(upstream);
  c.suggestion.file = "/etc/nginx/nginx.conf";
  c.suggestion.line = 7;
  Edit e;
  e.file = "/etc/nginx/nginx.conf";
  e.line = 7;
  e.target_name = "proxy_read_timeout";
  e.value = "90s";
  c.suggestion.edits.push_back(e);
  c.diff = std::move(diff);
  return c;
}

LiveReport sample() {
  LiveReport r;
  r.report.root = "/etc/nginx";
  r.report.items.push_back(item("keepalive-timeout", "", "", "app", "--- a\n+++ b\n@@ ka\n"));
  r.report.items.push_back(item("backend-cut-body", "shop.test", "/report/", "app", ""));
  r.report.items.push_back(item("read-timeout", "shop.test", "/report/", "app", "@@ rt\n"));
  r.report.items.back().refused = "";
  return r;
}

// Atomics: the refresher thread reads the clock and computes too.
struct Fixture {
  std::atomic<uint64_t> now = 1000;
  std::atomic<int> computed = 0;
  LiveSuggest live{[this] {
                     ++computed;
                     return sample();
                   },
                   [this] { return now.load(); }, 5000};
};

TEST(LiveSuggest, CachesTheReportForTheTtl) {
  Fixture f;
  f.live.report();
  f.live.reply();
  f.live.suggestion_for(Place{"app", "shop.test", "/report/"}, "response");
  f.live.top_suggestion();
  EXPECT_EQ(f.computed, 1);
  f.now += 4999;
  f.live.report();
  EXPECT_EQ(f.computed, 1);
  f.now += 1;
  f.live.report();
  EXPECT_EQ(f.computed, 2);
}

TEST(LiveSuggest, AFailedComputationIsAnErrorReplyAndCachedToo) {
  std::atomic<uint64_t> now = 0;
  std::atomic<int> calls = 0;
  LiveSuggest live(
      [&]() -> LiveReport {
        ++calls;
        throw std::runtime_error("boom");
      },
      [&] { return now.load(); });
  json reply = live.reply();
  ASSERT_TRUE(reply.contains("error"));
  EXPECT_NE(reply["error"].get<std::string>().find("boom"), std::string::npos);
  live.reply();
  EXPECT_EQ(calls, 1);  // a failing nginx -t is not retried on every refresh either
  EXPECT_FALSE(live.top_suggestion());
}

bool eventually(const std::function<bool()>& cond) {
  for (int i = 0; i < 400 && !cond(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return cond();
}

TEST(LiveSuggest, SnapshotLookUpsNeverWaitButRefreshInTheBackground) {
  Fixture f;
  // Nothing cached yet: no suggestion now, a computation starts on the side.
  EXPECT_FALSE(f.live.top_suggestion());
  ASSERT_TRUE(eventually([&] { return f.computed == 1; }));
  ASSERT_TRUE(eventually([&] { return f.live.top_suggestion().has_value(); }));
  f.now += 6000;  // stale: the old one is still shown while a new one is made
  EXPECT_TRUE(f.live.suggestion_for(Place{"app", "shop.test", "/report/"}, "response"));
  EXPECT_TRUE(eventually([&] { return f.computed == 2; }));
  f.live.stop();
  f.live.stop();  // idempotent, and look-ups after it do not wake anything
  f.now += 6000;
  EXPECT_TRUE(f.live.top_suggestion());
}

TEST(LiveSuggest, RowGetsItsLocationsVerifiedSuggestionElseItsUpstreams) {
  Fixture f;
  f.live.report();
  auto at_report = f.live.suggestion_for(Place{"app", "shop.test", "/report/"}, "response");
  ASSERT_TRUE(at_report);
  EXPECT_EQ(at_report->title, "title of read-timeout");  // the one with a diff wins
  EXPECT_EQ(at_report->diff, "@@ rt\n");
  EXPECT_LE(at_report->evidence.size(), 410u);  // shortened for the snapshot
  auto elsewhere = f.live.suggestion_for(Place{"app", "shop.test", "/api/"}, "response");
  ASSERT_TRUE(elsewhere);
  EXPECT_EQ(elsewhere->title, "title of keepalive-timeout");
  EXPECT_FALSE(f.live.suggestion_for(Place{"other", "shop.test", "/api/"}, "response"));
  EXPECT_EQ(f.live.top_suggestion()->title, "title of keepalive-timeout");
}

TEST(LiveSuggest, ApiServesSuggestAndStillRejectsBadRequests) {
  Fixture f;
  ApiRoutes routes{{"snapshot", [] { return json::object(); }},
                   {"suggest", [&f] { return f.live.reply(); }}};
  json reply = json::parse(handle_api_request(R"({"get":"suggest"})", routes));
  ASSERT_TRUE(reply.contains("suggestions")) << reply;
  EXPECT_EQ(reply["suggestions"].size(), 3u);
  EXPECT_EQ(reply["suggestions"][2]["server"], "shop.test");
  EXPECT_EQ(reply["suggestions"][2]["evidence"].get<std::string>().size(), 512u);  // in full
  for (const char* bad : {R"({"get":"suggestions"})", R"({"suggest":1})", "suggest", "[]",
                          R"({"get":["suggest"]})"}) {
    json r = json::parse(handle_api_request(bad, routes));
    EXPECT_TRUE(r.contains("error")) << bad;
  }
  EXPECT_EQ(f.computed, 1);
}

TEST(LiveSuggest, ReportRoundTripsForTheTextOutput) {
  SuggestReport r = sample().report;
  r.notes = {"a note"};
  SuggestReport back = suggest_report_from_json(suggest_json(r));
  EXPECT_EQ(format_suggest_text(back), format_suggest_text(r));
  EXPECT_EQ(format_suggest_json(back), format_suggest_json(r));
  EXPECT_THROW(suggest_report_from_json(json{{"root", "/"}}), json::exception);
}

TEST(LiveSuggest, NoLoadedConfigurationIsAnError) {
  ConfigSet none;
  LiveReport r = suggest_live(MeasurementsByNginx{}, none, VerifyOptions{});
  EXPECT_NE(r.error.find("no nginx master"), std::string::npos);
}

TEST(LiveSuggest, NothingToSuggestRunsNoNginx) {
  ConfigSet one;
  one.only = std::make_shared<NginxConfigView>(std::make_shared<nginx::Config>(
      nginx::load_from_dump("# configuration file /etc/nginx/nginx.conf:\n"
                            "events {}\nhttp { server { listen 80; location / { } } }\n")));
  // A binary that does not exist: any nginx -t would make config_error non-empty.
  LiveReport r = suggest_live(MeasurementsByNginx{}, one, VerifyOptions{"/nonexistent/nginx", ""});
  EXPECT_TRUE(r.error.empty());
  EXPECT_TRUE(r.report.config_error.empty());
  EXPECT_TRUE(r.report.items.empty());
}

TEST(SharedMeasurements, CopyIsASnapshot) {
  SharedMeasurements shared;
  RequestObservation req;
  req.place = Place{"app", "shop.test", "/api/"};
  shared.on_request(req);
  MeasurementsByNginx copy = shared.copy();
  shared.on_request(req);
  ASSERT_EQ(copy[""].locations().size(), 1u);
  EXPECT_EQ(copy[""].locations().begin()->second.requests, 1u);
  EXPECT_EQ(shared.copy()[""].locations().begin()->second.requests, 2u);
}

// Two nginx instances on one host with the same server and location names: each one's
// evidence is its own, never the sum.
constexpr const char* kTwinConfig =
    "# configuration file /etc/nginx/nginx.conf:\n"
    "events {}\nhttp { upstream app { server 127.0.0.1:9; }\n"
    "server { listen 80; server_name shop.test;\n"
    "location /api/ { proxy_pass http://app; } location /other/ { proxy_pass http://app; } } }\n";

std::shared_ptr<NginxConfigView> twin(const std::string& identity) {
  return std::make_shared<NginxConfigView>(
      std::make_shared<nginx::Config>(nginx::load_from_dump(kTwinConfig)), identity);
}

void time_out(SharedMeasurements& shared, const NginxConfigView& view, const char* path, int n) {
  ngxw_endpoint local{};
  local.port = 80;
  FailureObservation f;
  f.place = *view.for_client_request(local, "shop.test", path);
  f.cause = "read_timeout";
  for (int i = 0; i < n; ++i) shared.on_failure(f);
}

TEST(SharedMeasurements, EachNginxInstanceKeepsItsOwnEvidence) {
  auto a = twin("/usr/sbin/nginx -c /etc/a.conf -p /srv/a/");
  auto b = twin("/usr/sbin/nginx -c /etc/b.conf -p /srv/b/");
  SharedMeasurements shared;
  time_out(shared, *a, "/api/x", 3);
  time_out(shared, *b, "/api/x", 1);
  time_out(shared, *b, "/other/y", 1);  // b names more measured locations: it is chosen
  MeasurementsByNginx by = shared.copy();
  EXPECT_EQ(measurements_of(by, *a).locations().at({"shop.test", "/api/"}).read_timeouts, 3u);
  EXPECT_EQ(measurements_of(by, *b).locations().at({"shop.test", "/api/"}).read_timeouts, 1u);
  EXPECT_EQ(most_measured(by, {a.get(), b.get()}), 1u);
  EXPECT_EQ(most_measured(by, {b.get(), a.get()}), 0u);

  std::string evidence;
  for (const Suggestion& c : suggest(measurements_of(by, *b), b->config()))
    if (c.location == "/api/" && c.id == "read-timeout") evidence = c.evidence;
  EXPECT_EQ(evidence.rfind("1 request ", 0), 0u) << evidence;  // b's own, not 1 + 3

  // The live report is b's, and says so; a's measurements are named as kept apart. (No
  // nginx here to verify with: the report holds the notes and the config error.)
  ConfigSet two;
  two.by_pid = {{10, a}, {20, b}};
  two.origins = {{a.get(), "nginx master 10 (a)"}, {b.get(), "nginx master 20 (b)"}};
  LiveReport r = suggest_live(by, two, VerifyOptions{"/nonexistent/nginx", ""});
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.report.notes.size(), 2u) << format_suggest_json(r.report);
  EXPECT_EQ(r.report.notes[0], "judged against the configuration of nginx master 20 (b)");
  EXPECT_EQ(r.report.notes[1],
            "the measurements of nginx master 10 (a) are kept apart and not judged here");
}

}  // namespace
}  // namespace ngxwatch::advise
