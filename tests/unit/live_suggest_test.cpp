// The daemon's live `suggest`: the report cache (one computation per period, however
// often top asks), the API's {"get":"suggest"} next to the rejected requests, the
// per-row look-up for top's snapshot, and the report's JSON round trip that
// `suggest --api-socket` prints from.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <thread>

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
  LiveReport r = suggest_live(Measurements{}, none, VerifyOptions{});
  EXPECT_NE(r.error.find("no nginx master"), std::string::npos);
}

TEST(LiveSuggest, NothingToSuggestRunsNoNginx) {
  ConfigSet one;
  one.only = std::make_shared<NginxConfigView>(std::make_shared<nginx::Config>(
      nginx::load_from_dump("# configuration file /etc/nginx/nginx.conf:\n"
                            "events {}\nhttp { server { listen 80; location / { } } }\n")));
  // A binary that does not exist: any nginx -t would make config_error non-empty.
  LiveReport r = suggest_live(Measurements{}, one, VerifyOptions{"/nonexistent/nginx", ""});
  EXPECT_TRUE(r.error.empty());
  EXPECT_TRUE(r.report.config_error.empty());
  EXPECT_TRUE(r.report.items.empty());
}

TEST(SharedMeasurements, CopyIsASnapshot) {
  SharedMeasurements shared;
  RequestObservation req;
  req.place = Place{"app", "shop.test", "/api/"};
  shared.on_request(req);
  Measurements copy = shared.copy();
  shared.on_request(req);
  ASSERT_EQ(copy.locations().size(), 1u);
  EXPECT_EQ(copy.locations().begin()->second.requests, 1u);
  EXPECT_EQ(shared.copy().locations().begin()->second.requests, 2u);
}

}  // namespace
}  // namespace ngxwatch::advise
