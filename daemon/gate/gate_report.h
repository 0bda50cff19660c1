// What `ngxwatch gate` concludes about one load run: per location, the requests the
// probes saw, the attributed failures by upstream and cause (with evidence), the
// client-visible errors; the detectors' findings (storms, temp-dir fill, worker
// exhaustion), temp-dir high-water marks and the suggested diff. Plain values: made
// from the in-process pipeline (gate_from_summary.h) or from the difference of two
// snapshots of a running daemon (gate_from_snapshot.h), printed and judged the same way.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "detect/finding.h"

namespace ngxwatch::gate {

struct CauseCount {
  std::string upstream;
  std::string cause;
  std::string phase;
  uint64_t count = 0;
  uint64_t duplicate_risk = 0;  // of them, may have run on the backend (POST/PUT/PATCH)
  std::string evidence;         // of the first one
  std::string request;          // redacted request line of the first one
};

struct LocationReport {
  std::string server;
  std::string location;
  std::optional<uint64_t> requests;  // none: not known (a daemon without request counts)
  uint64_t resets = 0;
  std::vector<CauseCount> failures;
  std::map<int, uint64_t> client_errors;  // status -> count
  uint64_t client_error_total() const;
};

struct TempDirReport {
  std::string path;
  std::string kind;  // client_body | proxy
  uint64_t size_bytes = 0;
  uint64_t high_water_used_bytes = 0;  // most in use during the run
  uint64_t free_bytes_now = 0;
  std::optional<double> min_eta_s;  // shortest projected time to full (none: not filling)
  uint64_t write_errors = 0;
};

struct GateReport {
  std::string source;  // "probes" or "daemon API PATH"
  std::vector<std::string> load_command;
  int load_status = 0;  // exit status (128+N for a signal)
  double load_seconds = 0;
  uint64_t events = 0;                    // kernel events the pipeline saw
  std::optional<uint64_t> requests;       // client requests seen in total
  std::vector<LocationReport> locations;  // sorted by server, location
  std::vector<Finding> findings;
  std::vector<TempDirReport> temp_dirs;
  std::string suggestions;         // `ngxwatch suggest`'s text, "" when none
  std::vector<std::string> notes;  // what the report could not cover, one line each

  uint64_t client_error_total() const;
  LocationReport& location(const std::string& server, const std::string& location);
};

}  // namespace ngxwatch::gate
