// LiveStats: rolling windows over a fake clock, per-row totals and history, the ring of
// latest events, redaction, and the placeholder fields other stages fill later.
#include <gtest/gtest.h>

#include "api/live_stats.h"

using namespace ngxwatch;

namespace {

struct FakeClock {
  uint64_t ms = 1'000'000;
  LiveStats::Clock fn() {
    return [this] { return ms; };
  }
};

ResetObservation reset_at(const std::string& location, const std::string& phase) {
  ResetObservation r;
  r.side = "upstream";
  r.origin = "peer";
  r.peer = "127.0.0.1:9000";
  r.place = Place{"backend", "uploads.test", location};
  r.phase = phase;
  r.request_bytes = 4096;
  r.connection_age_s = 0.25;
  r.request = "POST /upload/a?token=secret";  // not redacted upstream: LiveStats must
  return r;
}

const nlohmann::json* find_row(const nlohmann::json& s, const std::string& location) {
  for (const auto& r : s["rows"])
    if (r["location"] == location) return &r;
  return nullptr;
}

}  // namespace

TEST(RollingCounter, RatesOverCompleteSecondsOnly) {
  RollingCounter c;
  c.add(100, 5);  // second 100
  c.add(105, 2);
  c.add(109, 3);
  c.add(110, 7);  // the current, partial second: not in any window yet
  EXPECT_DOUBLE_EQ(c.rate(110, 1), 3.0);
  EXPECT_DOUBLE_EQ(c.rate(110, 10), (5 + 2 + 3) / 10.0);
  EXPECT_DOUBLE_EQ(c.rate(110, 60), (5 + 2 + 3) / 60.0);
  EXPECT_DOUBLE_EQ(c.rate(111, 1), 7.0);
  EXPECT_EQ(c.total(), 17u);
  // A minute later the early seconds have left every window; totals stay.
  EXPECT_DOUBLE_EQ(c.rate(170, 60), 7.0 / 60);
  EXPECT_DOUBLE_EQ(c.rate(171, 60), 0.0);
  EXPECT_EQ(c.total(), 17u);
}

TEST(RollingCounter, HistoryIsSixtyPointsOldestFirst) {
  RollingCounter c;
  c.add(50, 1);
  c.add(59, 4);
  auto h = c.history(60);
  ASSERT_EQ(h.size(), 60u);
  EXPECT_EQ(h.back(), 4u);          // second 59
  EXPECT_EQ(h[h.size() - 10], 1u);  // second 50
  EXPECT_EQ(h.front(), 0u);         // second 0
  // A bucket reused after wrap-around does not leak its old count.
  c.add(59 + 64, 1);
  EXPECT_EQ(c.history(124).back(), 1u);
}

TEST(LiveStats, WindowsPerRowAndHeader) {
  FakeClock clock;
  LiveStats live(clock.fn());
  for (int i = 0; i < 4; ++i) live.on_reset(reset_at("/upload/", "send_body"));
  clock.ms += 1000;  // next second
  live.on_reset(reset_at("/upload/", "send_body"));
  live.on_reset(reset_at("/api/", "read_header"));
  FailureObservation f;
  f.place = Place{"backend", "uploads.test", "/upload/"};
  f.phase = "send_body";
  f.error = "reset";
  f.cause = "upstream_reset_sending_body";
  f.evidence = "4096 of 1048576 request bytes sent when the upstream reset";
  f.request = "POST /upload/a?x=1";
  live.on_failure(f);
  live.on_client_visible(ClientStatusObservation{f.place, 502});
  clock.ms += 1000;

  auto s = live.snapshot();
  EXPECT_EQ(s["version"], 1);
  const auto* up = find_row(s, "/upload/");
  ASSERT_TRUE(up);
  EXPECT_EQ((*up)["upstream"], "backend");
  EXPECT_EQ((*up)["server"], "uploads.test");
  EXPECT_EQ((*up)["phase"], "send_body");
  EXPECT_EQ((*up)["totals"]["resets"], 5);
  EXPECT_EQ((*up)["totals"]["failures"], 1);
  EXPECT_EQ((*up)["totals"]["events"], 6);
  EXPECT_DOUBLE_EQ((*up)["rates"]["1s"].get<double>(), 2.0);   // last complete second
  EXPECT_DOUBLE_EQ((*up)["rates"]["10s"].get<double>(), 0.6);  // 6 events / 10 s
  EXPECT_DOUBLE_EQ((*up)["rates"]["60s"].get<double>(), 0.1);
  EXPECT_EQ((*up)["history"].size(), 60u);
  EXPECT_EQ((*up)["history"][59], 2);
  EXPECT_EQ((*up)["history"][58], 4);
  // Busiest row first.
  EXPECT_EQ(s["rows"][0]["location"], "/upload/");

  EXPECT_DOUBLE_EQ(s["header"]["resets_per_s"]["1s"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(s["header"]["upstream_errors_per_s"]["1s"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(s["header"]["client_errors_per_s"]["10s"].get<double>(), 0.1);
  EXPECT_EQ(s["header"]["totals"]["resets"], 6);

  // Sixty seconds on, the rates are zero and the totals stay.
  clock.ms += 61'000;
  s = live.snapshot();
  up = find_row(s, "/upload/");
  EXPECT_DOUBLE_EQ((*up)["rates"]["60s"].get<double>(), 0.0);
  EXPECT_EQ((*up)["totals"]["events"], 6);
}

TEST(LiveStats, LatestEventsBoundedNewestFirstAndRedacted) {
  FakeClock clock;
  LiveStats live(clock.fn(), /*latest_per_row=*/3);
  for (int i = 0; i < 5; ++i) {
    auto r = reset_at("/upload/", "send_body");
    r.request_bytes = i;
    live.on_reset(r);
    clock.ms += 100;
  }
  auto s = live.snapshot();
  const auto& latest = s["rows"][0]["latest"];
  ASSERT_EQ(latest.size(), 3u);
  EXPECT_EQ(latest[0]["request_bytes"], 4.0);  // newest first
  EXPECT_EQ(latest[2]["request_bytes"], 2.0);
  EXPECT_NEAR(latest[0]["age_s"].get<double>(), 0.1, 1e-9);
  EXPECT_EQ(latest[0]["request"], "POST /upload/a?<redacted>");
  EXPECT_EQ(s.dump().find("secret"), std::string::npos);
}

TEST(LiveStats, PlaceholdersUntilProvidersExist) {
  FakeClock clock;
  LiveStats live(clock.fn());
  live.on_reset(reset_at("/upload/", "send_body"));
  auto s = live.snapshot();
  EXPECT_TRUE(s["storms"].is_array() && s["storms"].empty());
  EXPECT_TRUE(s["temp_dirs"].is_array() && s["temp_dirs"].empty());
  EXPECT_TRUE(s["suggestion"].is_null());
  EXPECT_TRUE(s["rows"][0]["suggestion"].is_null());
  EXPECT_EQ(s["header"]["active_storms"], 0);
  EXPECT_EQ(s["dropped_events"], 0);

  struct Extras : SnapshotExtras {
    std::vector<TempDirInfo> temp_dirs() const override {
      return {{"/var/lib/nginx/body", 100, 10, 5.0, 2.0}};
    }
    std::optional<SuggestionInfo> suggestion_for(const Place& p,
                                                 const std::string&) const override {
      if (p.location != "/upload/") return std::nullopt;
      return SuggestionInfo{"proxy_request_buffering on", "resets mid-body", "--- a\n+++ b\n"};
    }
  };
  live.add_extras(std::make_shared<Extras>());
  live.set_dropped_source([] { return uint64_t{7}; });
  s = live.snapshot();
  EXPECT_EQ(s["temp_dirs"][0]["eta_s"], 2.0);
  EXPECT_EQ(s["rows"][0]["suggestion"]["title"], "proxy_request_buffering on");
  EXPECT_EQ(s["dropped_events"], 7);
}
