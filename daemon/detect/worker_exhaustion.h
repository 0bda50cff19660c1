// Worker exhaustion: how full each nginx worker's connection table is against
// `worker_connections`, and connections nginx accepted and closed at once because it
// had no free connection ("worker_connections are not enough": nothing reaches the
// access log, the client just sees a close).
//
// Fed with the raw event stream in event time. A worker's open connections are the
// tracked sockets (client and upstream: nginx counts both against the limit) it owns;
// a client socket belongs to the listener's owner until a worker reads from it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "attribute/config_view.h"
#include "correlate/observations.h"
#include "detect/finding.h"
#include "source/event.h"

namespace ngxwatch {

struct WorkerExhaustionOptions {
  // An accepted connection nginx closes unread within this is a refusal: nginx's
  // own timeouts (client_header_timeout) are seconds, never milliseconds.
  double refuse_within_s = 0.1;
  double warn_ratio = 0.9;      // busiest worker this full: a warning finding
  double recent_window_s = 10;  // refusals this recent keep the finding critical
  size_t max_connections = 262144;
};

class WorkerExhaustionDetector {
 public:
  // failures: where worker_connections_exhausted failures go (metrics, log).
  explicit WorkerExhaustionDetector(ObservationSink* failures, WorkerExhaustionOptions o = {})
      : failures_(failures), o_(o) {}
  void set_configs(const ConfigLookup* configs) { configs_ = configs; }

  void on_event(const Event& e);
  void tick(uint64_t now_ns);

  // Busiest worker's open connections / its worker_connections (0 when unknown).
  double busiest_ratio() const { return ratio_; }
  uint32_t busiest_tgid() const { return busiest_; }
  size_t open(uint32_t tgid) const;
  uint64_t refused() const { return refused_; }
  std::vector<Finding> findings() const;

 private:
  struct Conn {
    uint32_t tgid;
  };
  void open_conn(uint64_t sock, uint32_t tgid);
  void close_conn(uint64_t sock);
  void on_close(const ngxw_conn_event& e);
  static size_t slack(int limit);
  std::pair<uint32_t, size_t> fullest(const ConfigView* cfg) const;

  ObservationSink* failures_;
  WorkerExhaustionOptions o_;
  const ConfigLookup* configs_ = nullptr;
  std::unordered_map<uint64_t, Conn> conns_;
  std::unordered_map<uint32_t, size_t> open_;  // per tgid
  std::deque<uint64_t> refusals_;              // times of recent refusals
  uint64_t refused_ = 0;
  double ratio_ = 0;
  uint32_t busiest_ = 0;
  size_t busiest_open_ = 0;
  int busiest_limit_ = 0;
  // Highest ratio seen and its numbers: advice sizes worker_connections from the peak,
  // not from whatever the last tick saw.
  double peak_ratio_ = 0;
  size_t peak_open_ = 0;
  int peak_limit_ = 0;
  uint64_t now_ = 0;
  std::optional<Finding> finding_;
};

}  // namespace ngxwatch
