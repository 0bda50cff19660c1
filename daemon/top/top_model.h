// What `top` shows, without any terminal: the daemon's snapshot JSON parsed into rows,
// sorted, filtered, with a selection that follows its row across refreshes. Pure and
// unit-tested; top_view draws it, `top --once` prints it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ngxwatch {

struct TopRates {
  double r1 = 0, r10 = 0, r60 = 0;
};

struct TopEvent {
  std::string kind;  // reset | failure
  double age_s = 0;
  std::string request;  // redacted by the daemon
  std::string phase, cause, evidence, peer, side, origin, reason;
  double request_bytes = 0;
  double connection_age_s = 0;
  std::optional<double> keepalive_idle_s;
  bool duplicate_risk = false;
};

struct TopSuggestion {
  std::string title, evidence, diff;
};

struct TopRow {
  std::string upstream, server, location, phase;
  TopRates rates;  // events (resets + failures) per second
  uint64_t total = 0, resets = 0, failures = 0;
  uint64_t duplicate_risk = 0;    // failures that may have run on the backend
  std::vector<uint64_t> history;  // per second, oldest first
  double last_age_s = 0;
  std::vector<TopEvent> latest;  // newest first
  std::optional<TopSuggestion> suggestion;
  std::string key() const;  // identity across refreshes
};

struct TopTempDir {
  std::string path;
  uint64_t total_bytes = 0, free_bytes = 0;
  std::optional<double> eta_s;
};

struct TopSnapshot {
  double uptime_s = 0;
  TopRates resets, upstream_errors, client_errors;
  uint64_t total_resets = 0, total_upstream_errors = 0, total_client_errors = 0;
  uint64_t total_duplicate_risk = 0;
  size_t active_storms = 0;
  std::optional<TopTempDir> fullest_temp_dir;  // least free space left
  uint64_t dropped_events = 0;
  std::string capture_backend;           // "" when the kernel gave none
  std::vector<std::string> unavailable;  // "feature: why", from the daemon's kernel
  std::vector<TopRow> rows;
  std::optional<TopSuggestion> suggestion;  // the daemon's most pressing one
  std::string config;  // which nginx master's configuration the rows are judged against
};

// nullopt with *error when the JSON is not a snapshot (wrong version, missing fields).
std::optional<TopSnapshot> parse_snapshot(const nlohmann::json& j, std::string* error);

enum class SortKey { kRate1s, kRate10s, kRate60s, kTotal, kName };
const char* sort_name(SortKey k);

class TopModel {
 public:
  TopModel() = default;
  TopModel(const TopModel&) = delete;  // visible() points into the snapshot
  TopModel& operator=(const TopModel&) = delete;
  void update(TopSnapshot s);
  void set_filter(std::string filter);  // case-insensitive substring of any label
  void cycle_sort();
  void set_sort(SortKey k);
  void move(int delta);  // clamped to the visible rows

  const TopSnapshot& snapshot() const { return snap_; }
  const std::vector<const TopRow*>& visible() const { return visible_; }
  const TopRow* selected() const;
  size_t selected_index() const { return selected_; }
  SortKey sort() const { return sort_; }
  const std::string& filter() const { return filter_; }

 private:
  void rebuild(const std::string& keep_key);
  TopSnapshot snap_;
  std::vector<const TopRow*> visible_;
  size_t selected_ = 0;
  SortKey sort_ = SortKey::kRate10s;
  std::string filter_;
};

}  // namespace ngxwatch
