// Retry storm: clients repeating requests that just failed, while a location's
// request rate is far above its own recent baseline and most of it fails.
//
// Fed with finished client requests in event time (the kernel's CLOCK_MONOTONIC), so
// a recorded trace replays the same verdicts. Client address, method and path are
// only kept in memory to recognise repeats; they never leave as labels.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "correlate/observations.h"
#include "detect/finding.h"

namespace ngxwatch {

struct RetryStormOptions {
  double repeat_window_s = 10;    // a failed request repeated within this is a retry
  double recent_window_s = 5;     // the rate and ratio are judged over this window
  double baseline_window_s = 60;  // the location's own history before that window
  double min_rate = 4;            // req/s: below it nothing is a storm
  double baseline_factor = 3;     // recent rate must exceed baseline x this
  double min_failure_ratio = 0.5;
  size_t min_retries = 8;       // retries in the recent window
  size_t min_clients = 1;       // distinct clients retrying
  size_t max_tracked = 100000;  // failed (client, method, path) keys kept (bound)
};

class RetryStormDetector {
 public:
  explicit RetryStormDetector(RetryStormOptions o = {}) : o_(o) {}

  void on_request(const RequestObservation& r);
  // Ends storms whose pattern stopped and forgets old history; call with event time.
  void tick(uint64_t now_ns);

  struct LocationState {
    bool active = false;
    uint64_t storm_requests = 0;  // retries counted while a storm was on (monotonic)
  };
  // Per (server, location): for the metrics.
  const std::map<std::pair<std::string, std::string>, LocationState>& locations() const {
    return state_;
  }
  // Active storms and the ones that ended (most recent last, bounded).
  std::vector<Finding> findings() const;

 private:
  struct Sample {
    uint64_t ts;
    bool failed;
    bool retry;
    bool non_idempotent;
    std::string client;
    uint32_t weight;  // requests it stands for (kernel sampling); failures are 1
  };
  struct Loc {
    Place place;
    std::deque<Sample> recent;                          // within recent_window_s
    std::deque<std::pair<uint64_t, uint32_t>> history;  // (time, weight) in the baseline window
    std::optional<Finding> storm;
    double peak_rate = 0;
    uint64_t last_judge_ns = 0;  // judging scans the window: not at every request
  };
  void judge(Loc& loc, uint64_t now_ns);
  void trim(Loc& loc, uint64_t now_ns);

  RetryStormOptions o_;
  std::map<std::pair<std::string, std::string>, Loc> locs_;
  std::map<std::pair<std::string, std::string>, LocationState> state_;
  std::unordered_map<std::string, uint64_t> failed_;  // key -> time it last failed
  std::deque<Finding> ended_;
};

}  // namespace ngxwatch
