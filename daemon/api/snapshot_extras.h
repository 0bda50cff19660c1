// What other stages add to the `top` snapshot: retry storms (detect), temp-dir fill
// (detect) and config suggestions (advise). They are built elsewhere; until a provider
// is registered the snapshot carries `storms: []`, `temp_dirs: []`, `suggestion: null`,
// so `top` and scripts can rely on the fields being there.
//
// Providers are called from the API thread, never from the event loop: an
// implementation guards its own state (a mutex, or an atomically swapped copy).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attribute/config_view.h"

namespace ngxwatch {

struct StormInfo {
  Place place;
  std::string method;         // the repeated request, e.g. "POST"
  std::string path;           // without query string (never printed raw otherwise)
  double rate_per_s = 0;      // requests per second now
  double baseline_per_s = 0;  // the location's own recent rate
  double failure_ratio = 0;   // 0..1
  int clients = 0;
  double onset_age_s = 0;  // seconds since the storm began
};

struct TempDirInfo {
  std::string path;
  uint64_t total_bytes = 0;
  uint64_t free_bytes = 0;
  double fill_bytes_per_s = 0;  // nginx's spooling rate into it
  std::optional<double> eta_s;  // time to full at that rate; none when not filling
};

struct SuggestionInfo {
  std::string title;     // one line: "raise proxy_read_timeout for /report/ to 90s"
  std::string evidence;  // the measurements behind it
  std::string diff;      // unified diff against the real nginx files
};

class SnapshotExtras {
 public:
  virtual ~SnapshotExtras() = default;
  virtual std::vector<StormInfo> storms() const { return {}; }
  virtual std::vector<TempDirInfo> temp_dirs() const { return {}; }
  // The suggestion for one row of the table (place + phase), if there is one.
  virtual std::optional<SuggestionInfo> suggestion_for(const Place&, const std::string&) const {
    return std::nullopt;
  }
  // The most pressing suggestion overall (the `d` key of top when no row has one).
  virtual std::optional<SuggestionInfo> top_suggestion() const { return std::nullopt; }
};

}  // namespace ngxwatch
