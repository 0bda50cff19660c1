// Temp-dir fill: what nginx spools to its temp paths per location (from the kernel's
// temp-file write events), how much room each temp path's filesystem has left
// (statvfs), and when it will be full at the current fill rate. A temp-file write
// nginx failed (ENOSPC, EIO, EACCES: NGX_ERROR from ngx_write_chain_to_temp_file) is a
// `temp_file_error` failure at the request's location.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "attribute/config_view.h"
#include "correlate/observations.h"
#include "detect/finding.h"
#include "source/event.h"

namespace ngxwatch {

struct TempDirOptions {
  double sample_interval_s = 1;  // statvfs at most this often per path
  double fill_window_s = 30;     // fill rate measured over this
  double warn_eta_s = 600;       // projected full within this: warning
  double critical_eta_s = 60;    // ... within this, or a failed write: critical
  double error_window_s = 60;    // a failed write keeps the finding on this long
};

struct FsSpace {
  uint64_t free_bytes = 0;  // available to unprivileged writers (nginx workers)
  uint64_t size_bytes = 0;
};

class TempDirDetector {
 public:
  using PlaceOf = std::function<std::optional<Place>(uint64_t sock_id)>;
  using StatFs = std::function<std::optional<FsSpace>(const std::string& path)>;

  // failures: where temp_file_error failures go. statfs: statvfs by default; tests
  // pass a fake filesystem.
  explicit TempDirDetector(ObservationSink* failures, TempDirOptions o = {},
                           StatFs statfs = nullptr);
  void set_configs(const ConfigLookup* configs);
  // How the socket of a request maps to its place (the correlator knows).
  void set_place_of(PlaceOf f) { place_of_ = std::move(f); }

  void on_event(const Event& e);
  void tick(uint64_t now_ns);

  // (server, location, kind) -> bytes spooled (monotonic).
  const std::map<std::tuple<std::string, std::string, std::string>, uint64_t>& spooled() const {
    return spooled_;
  }
  struct PathState {
    std::string kind;  // client_body | proxy
    std::optional<FsSpace> space;
    std::optional<double> eta_s;  // none: not filling
    uint64_t errors = 0;
    uint64_t last_error_ns = 0;
    std::deque<std::pair<uint64_t, uint64_t>> samples;  // (time, free bytes)
    uint64_t last_sample_ns = 0;
    std::optional<Finding> finding;
  };
  const std::map<std::string, PathState>& paths() const { return paths_; }
  uint64_t unattributed_bytes() const { return unattributed_; }
  std::vector<Finding> findings() const;

 private:
  void on_temp(const ngxw_temp_event& e);
  PathState* path_of(const std::string& file);
  void judge(const std::string& path, PathState& p, uint64_t now_ns);

  ObservationSink* failures_;
  TempDirOptions o_;
  StatFs statfs_;
  PlaceOf place_of_;
  std::map<std::string, PathState> paths_;
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> spooled_;
  uint64_t unattributed_ = 0;
};

}  // namespace ngxwatch
