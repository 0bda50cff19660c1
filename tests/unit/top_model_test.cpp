// top's model and text: snapshot parsing, sorting, filtering, selection that follows
// its row, the key map, and the formatting of rates, sparklines and narrow layouts.
#include <gtest/gtest.h>

#include "top/top_format.h"
#include "top/top_keys.h"
#include "top/top_model.h"

using namespace ngxwatch;
using nlohmann::json;

namespace {

json row(const std::string& upstream, const std::string& location, const std::string& phase,
         double r1, double r10, double r60, uint64_t total) {
  return {{"upstream", upstream},
          {"server", "uploads.test"},
          {"location", location},
          {"phase", phase},
          {"rates", {{"1s", r1}, {"10s", r10}, {"60s", r60}}},
          {"totals", {{"events", total}, {"resets", total}, {"failures", 0}}},
          {"history", json::array({0, 1, 2})},
          {"last_age_s", 1.5},
          {"latest", json::array({{{"kind", "reset"},
                                   {"age_s", 0.5},
                                   {"request", "POST /upload/x?<redacted>"},
                                   {"phase", phase},
                                   {"request_bytes", 4096.0},
                                   {"keepalive_idle_s", nullptr}}})},
          {"suggestion", nullptr}};
}

json snapshot() {
  return {
      {"version", 1},
      {"uptime_s", 12.0},
      {"dropped_events", 3},
      {"header",
       {{"resets_per_s", {{"1s", 5.0}, {"10s", 2.5}, {"60s", 0.5}}},
        {"upstream_errors_per_s", {{"1s", 1.0}, {"10s", 1.0}, {"60s", 1.0}}},
        {"client_errors_per_s", {{"1s", 0.0}, {"10s", 0.2}, {"60s", 0.1}}},
        {"totals", {{"resets", 30}, {"upstream_errors", 12}, {"client_errors", 4}}},
        {"active_storms", 0}}},
      {"rows", json::array({row("backend_up", "/upload/", "send_body", 1, 9, 2, 40),
                            row("backend_api", "/api/", "read_header", 5, 3, 1, 90),
                            row("backend_rep", "/report/", "read_header", 0, 0, 4, 10)})},
      {"storms", json::array()},
      {"temp_dirs",
       json::array({{{"path", "/a"}, {"total_bytes", 100}, {"free_bytes", 50}},
                    {{"path", "/b"}, {"total_bytes", 100}, {"free_bytes", 5}, {"eta_s", 30.0}}})},
      {"suggestion", nullptr}};
}

std::vector<std::string> locations(const TopModel& m) {
  std::vector<std::string> out;
  for (const auto* r : m.visible()) out.push_back(r->location);
  return out;
}

TopModel& loaded(TopModel& m) {
  std::string err;
  auto s = parse_snapshot(snapshot(), &err);
  EXPECT_TRUE(s) << err;
  m.update(std::move(*s));
  return m;
}

}  // namespace

TEST(TopModel, ParsesHeaderRatesAndFullestTempDir) {
  std::string err;
  auto s = parse_snapshot(snapshot(), &err);
  ASSERT_TRUE(s) << err;
  EXPECT_DOUBLE_EQ(s->resets.r1, 5.0);
  EXPECT_DOUBLE_EQ(s->resets.r10, 2.5);
  EXPECT_DOUBLE_EQ(s->client_errors.r60, 0.1);
  EXPECT_EQ(s->total_resets, 30u);
  EXPECT_EQ(s->dropped_events, 3u);
  ASSERT_TRUE(s->fullest_temp_dir);
  EXPECT_EQ(s->fullest_temp_dir->path, "/b");
  ASSERT_EQ(s->rows.size(), 3u);
  EXPECT_EQ(s->rows[0].latest[0].request, "POST /upload/x?<redacted>");
  EXPECT_FALSE(s->rows[0].latest[0].keepalive_idle_s);
  EXPECT_FALSE(parse_snapshot(json{{"version", 2}}, &err));
  EXPECT_FALSE(parse_snapshot(json::array(), &err));
}

// Whatever answers on the API socket: fields of the wrong type or out of range are
// errors or zeros, never an exception or an undefined cast (found by reading
// fuzz_top_snapshot's target; its inputs are corpus seeds).
TEST(TopModel, FieldsOfTheWrongTypeOrRangeNeitherThrowNorOverflow) {
  std::string err;
  EXPECT_FALSE(parse_snapshot(json::parse(R"({"version":"1","header":{},"rows":[]})"), &err));
  EXPECT_EQ(err, "the daemon's reply is not a version 1 snapshot");
  auto s = parse_snapshot(json::parse(R"({"version":1,"header":{"totals":{"resets":1e300,
      "upstream_errors":-4,"client_errors":"9"}},"rows":[{"history":[1e30,-1,2.5,7],
      "latest":[{"duplicate_risk":"yes","age_s":1e300}]}]})"),
                          &err);
  ASSERT_TRUE(s) << err;
  EXPECT_EQ(s->total_resets, UINT64_MAX);
  EXPECT_EQ(s->total_upstream_errors, 0u);
  EXPECT_EQ(s->total_client_errors, 0u);
  EXPECT_EQ(s->rows[0].history, (std::vector<uint64_t>{UINT64_MAX, 0, 2, 7}));
  EXPECT_FALSE(s->rows[0].latest[0].duplicate_risk);
  EXPECT_EQ(format_age(s->rows[0].latest[0].age_s), "876600h00m");  // capped at a century
}

TEST(TopModel, SortsByEachKey) {
  TopModel m;
  loaded(m);
  EXPECT_EQ(sort_name(m.sort()), std::string("rate 10s"));
  EXPECT_EQ(locations(m), (std::vector<std::string>{"/upload/", "/api/", "/report/"}));
  m.cycle_sort();  // rate 60s
  EXPECT_EQ(locations(m), (std::vector<std::string>{"/report/", "/upload/", "/api/"}));
  m.cycle_sort();  // total
  EXPECT_EQ(locations(m), (std::vector<std::string>{"/api/", "/upload/", "/report/"}));
  m.cycle_sort();  // name
  EXPECT_EQ(locations(m), (std::vector<std::string>{"/api/", "/report/", "/upload/"}));
  m.cycle_sort();  // rate 1s
  EXPECT_EQ(locations(m), (std::vector<std::string>{"/api/", "/upload/", "/report/"}));
  m.cycle_sort();
  EXPECT_EQ(m.sort(), SortKey::kRate10s);
}

TEST(TopModel, FilterIsCaseInsensitiveOverLabels) {
  TopModel m;
  loaded(m);
  m.set_filter("API");
  EXPECT_EQ(locations(m), (std::vector<std::string>{"/api/"}));
  m.set_filter("read_header");
  EXPECT_EQ(locations(m), (std::vector<std::string>{"/api/", "/report/"}));
  m.set_filter("nothing-like-this");
  EXPECT_TRUE(m.visible().empty());
  EXPECT_EQ(m.selected(), nullptr);
  m.set_filter("");
  EXPECT_EQ(m.visible().size(), 3u);
}

TEST(TopModel, SelectionFollowsItsRowAcrossRefreshAndSort) {
  TopModel m;
  loaded(m);
  m.move(1);
  ASSERT_EQ(m.selected()->location, "/api/");
  m.cycle_sort();  // /api/ moves to the end
  EXPECT_EQ(m.selected()->location, "/api/");
  EXPECT_EQ(m.selected_index(), 2u);
  loaded(m);  // refresh
  EXPECT_EQ(m.selected()->location, "/api/");
  m.move(100);
  EXPECT_EQ(m.selected_index(), 2u);
  m.move(-100);
  EXPECT_EQ(m.selected_index(), 0u);
}

TEST(TopKeys, KeyMap) {
  TopModel m;
  loaded(m);
  TopViewState st;
  apply_key(st, m, TopKey::kChar, 'j');
  EXPECT_EQ(m.selected_index(), 1u);
  apply_key(st, m, TopKey::kChar, 'k');
  EXPECT_EQ(m.selected_index(), 0u);
  apply_key(st, m, TopKey::kDown);
  EXPECT_EQ(m.selected_index(), 1u);
  apply_key(st, m, TopKey::kChar, 's');
  EXPECT_EQ(m.sort(), SortKey::kRate60s);
  apply_key(st, m, TopKey::kChar, 'p');
  EXPECT_TRUE(st.paused);
  apply_key(st, m, TopKey::kChar, '/');
  EXPECT_TRUE(st.editing_filter);
  for (char c : std::string("repx")) apply_key(st, m, TopKey::kChar, c);
  apply_key(st, m, TopKey::kBackspace);
  apply_key(st, m, TopKey::kChar, 'q');  // typed into the filter, not quit
  EXPECT_FALSE(st.quit);
  apply_key(st, m, TopKey::kBackspace);
  apply_key(st, m, TopKey::kEnter);
  EXPECT_FALSE(st.editing_filter);
  EXPECT_EQ(m.filter(), "rep");
  EXPECT_EQ(locations(m), (std::vector<std::string>{"/report/"}));
  apply_key(st, m, TopKey::kEnter);
  EXPECT_TRUE(st.detail);
  apply_key(st, m, TopKey::kChar, 'd');
  EXPECT_TRUE(st.suggestion);
  EXPECT_FALSE(st.detail);
  apply_key(st, m, TopKey::kEscape);
  EXPECT_FALSE(st.suggestion);
  apply_key(st, m, TopKey::kEscape);  // nothing open: clears the filter
  EXPECT_EQ(m.filter(), "");
  apply_key(st, m, TopKey::kChar, 'q');
  EXPECT_TRUE(st.quit);
}

TEST(TopKeys, SuggestionScreenIsAPagerThatQLeaves) {
  TopModel m;
  loaded(m);
  TopViewState st;
  apply_key(st, m, TopKey::kChar, 'd');
  ASSERT_TRUE(st.suggestion);
  EXPECT_EQ(st.scroll, 0);
  apply_key(st, m, TopKey::kChar, 'j');
  apply_key(st, m, TopKey::kDown);
  apply_key(st, m, TopKey::kPageDown);
  EXPECT_EQ(st.scroll, 12);
  EXPECT_EQ(m.selected_index(), 0u);  // the keys scroll the diff, not the table
  apply_key(st, m, TopKey::kChar, 'k');
  apply_key(st, m, TopKey::kPageUp);
  EXPECT_EQ(st.scroll, 1);
  apply_key(st, m, TopKey::kPageUp);
  EXPECT_EQ(st.scroll, 0);
  apply_key(st, m, TopKey::kEnd);
  EXPECT_GT(st.scroll, 1000);  // the view clamps it to the last page
  apply_key(st, m, TopKey::kHome);
  EXPECT_EQ(st.scroll, 0);
  apply_key(st, m, TopKey::kChar, 'q');  // back to the table, not quit
  EXPECT_FALSE(st.suggestion);
  EXPECT_FALSE(st.quit);
  apply_key(st, m, TopKey::kChar, 'd');
  apply_key(st, m, TopKey::kChar, 'd');  // d toggles back too
  EXPECT_FALSE(st.suggestion);
  apply_key(st, m, TopKey::kChar, 'q');
  EXPECT_TRUE(st.quit);
}

TEST(TopFormat, RatesAgesBytes) {
  EXPECT_EQ(format_rate(0), "0");
  EXPECT_EQ(format_rate(0.25), "0.2");
  EXPECT_EQ(format_rate(12.4), "12");
  EXPECT_EQ(format_rate(1500), "1.5k");
  EXPECT_EQ(format_count(123456), "123.5k");
  EXPECT_EQ(format_age(0.25), "250ms");
  EXPECT_EQ(format_age(184), "3m04s");
  EXPECT_EQ(format_bytes(3 * 1024 * 1024), "3.0MiB");
}

TEST(TopFormat, SparklineKeepsPeaksAndNewestOnTheRight) {
  std::vector<uint64_t> h(60, 0);
  h[59] = 8;
  h[0] = 4;
  auto s = sparkline(h, 12, false);
  ASSERT_EQ(s.size(), 12u);
  EXPECT_EQ(s.back(), '@');   // the peak, newest second
  EXPECT_NE(s.front(), ' ');  // a half-height burst a minute ago is still visible
  EXPECT_EQ(sparkline(std::vector<uint64_t>(60, 0), 5, false), "     ");
  std::vector<uint64_t> busy(60, 1);
  EXPECT_EQ(sparkline(busy, 4, true), "\u2588\u2588\u2588\u2588");  // UTF-8 blocks
}

TEST(TopFormat, LayoutFitsEveryWidth) {
  TopModel m;
  loaded(m);
  for (int w : {200, 100, 80, 60, 40, 30}) {
    TopColumns c = layout_columns(w);
    std::string head = table_head(c);
    EXPECT_LE(static_cast<int>(head.size()), w) << w;
    for (const auto* r : m.visible()) {
      int len = static_cast<int>(table_row(*r, c).size()) + (c.spark ? c.spark + 1 : 0);
      EXPECT_LE(len, w) << w;
    }
  }
  EXPECT_EQ(layout_columns(80).spark, 12);
  EXPECT_EQ(layout_columns(60).spark, 0);
  auto text = plain_table(m, 100);
  EXPECT_NE(text.find("backend_up"), std::string::npos);
  EXPECT_NE(text.find("/upload/"), std::string::npos);
  EXPECT_NE(text.find("temp: /b 95% full in 30s"), std::string::npos);
  auto detail = detail_lines(*m.visible()[0], 100);
  EXPECT_NE(detail[2].find("POST /upload/x?<redacted>"), std::string::npos);
  EXPECT_EQ(detail.back(), "suggestion: none");
}

TEST(TopFormat, HeaderSaysWhichCaptureRunsAndWhatTheKernelCouldNot) {
  json j = snapshot();
  j["kernel"] = {
      {"capture_backend", ""},
      {"unavailable", json::array({"request_capture: sock_send_length does not exist"})}};
  std::string error;
  auto s = parse_snapshot(j, &error);
  ASSERT_TRUE(s) << error;
  EXPECT_EQ(s->unavailable.size(), 1u);
  auto lines = header_lines(*s, 200);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].rfind("capture OFF", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2], "unavailable: request_capture: sock_send_length does not exist");

  j["kernel"] = {{"capture_backend", "fentry"}, {"unavailable", json::array()}};
  s = parse_snapshot(j, &error);
  ASSERT_TRUE(s) << error;
  lines = header_lines(*s, 200);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].rfind("capture fentry", 0), 0u) << lines[1];
}
