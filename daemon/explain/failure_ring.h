// The recent failures `ngxwatch explain` joins nginx's error log against: a bounded
// ring of failure observations, each with the wall-clock time it happened (error-log
// times are wall clock; the kernel's are CLOCK_MONOTONIC) and what the client got.
// The live daemon keeps one (served as {"get":"failures"} on the local API, from the
// API thread: one mutex); `explain --trace` fills one from a replayed trace.
// Request lines are redacted before they are stored; the client address is kept for
// the join and leaves only through the 0660 API socket, never as a label.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "correlate/observations.h"

namespace ngxwatch {

struct FailureRecord {
  FailureObservation f;
  int64_t wall_ns = 0;    // CLOCK_REALTIME of f.ts_ns
  int client_status = 0;  // what the client got (0: not known yet / not seen)
  bool retried = false;   // nginx retried elsewhere first; client_status is that answer
};

// What a ring covers: when its source started and its oldest kept failure.
struct FailureCoverage {
  int64_t from_wall_ns = 0;         // the daemon's start, the trace's first event (0: unknown)
  int64_t to_wall_ns = 0;           // now, the trace's last event
  int64_t oldest_kept_wall_ns = 0;  // when failures were dropped for room: the oldest left
  uint64_t dropped = 0;             // failures that no longer fit
  size_t capacity = 0;
  std::string source;       // "daemon" | "trace"
  bool clock_known = true;  // false: a trace without a wall-clock anchor
};

class FailureRing : public ObservationSink {
 public:
  // to_wall: the wall-clock nanoseconds of a kernel (monotonic) time.
  using ToWall = std::function<int64_t(uint64_t mono_ns)>;
  static int64_t live_wall_of(uint64_t mono_ns);  // through the current clock offset

  explicit FailureRing(ToWall to_wall = live_wall_of, size_t capacity = 4096);

  void on_reset(const ResetObservation&) override {}
  void on_failure(const FailureObservation& f) override;
  void on_client_visible(const ClientStatusObservation&) override {}
  void on_retry_absorbed(const Place&) override {}
  void on_failure_outcome(uint64_t id, int status, bool retried) override;

  std::vector<FailureRecord> records() const;
  size_t capacity() const { return capacity_; }
  uint64_t dropped() const;

  // {"capacity", "dropped", "started_wall_ns", "now_wall_ns", "failures": [...]}
  nlohmann::json to_json(int64_t started_wall_ns, int64_t now_wall_ns) const;

 private:
  ToWall to_wall_;
  size_t capacity_;
  mutable std::mutex mu_;
  std::deque<FailureRecord> ring_;
  uint64_t dropped_ = 0;
};

nlohmann::json failure_record_json(const FailureRecord& r);
// Throws nlohmann::json::exception on a document of the wrong shape.
FailureRecord failure_record_from_json(const nlohmann::json& j);

// The wall clock now, nanoseconds.
int64_t wall_now_ns();

}  // namespace ngxwatch
