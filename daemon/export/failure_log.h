// The structured log of what the correlator concluded: one line per failure and per
// reset (debug), with redacted request lines only. Rate-limited so a flood of
// failures cannot flood the journal: by event time (the failure's own timestamp), so
// the same events give the same lines however fast they are fed (live, or replayed).
#pragma once

#include <cstdint>

#include "correlate/observations.h"

namespace ngxwatch {

class FailureLog : public ObservationSink {
 public:
  explicit FailureLog(unsigned lines_per_event_second = 20) : budget_(lines_per_event_second) {}
  void on_reset(const ResetObservation& r) override;
  void on_failure(const FailureObservation& f) override;
  void on_client_visible(const ClientStatusObservation&) override {}
  void on_retry_absorbed(const Place&) override {}

 private:
  bool allow(uint64_t ts_ns);
  unsigned budget_;
  unsigned used_ = 0;
  unsigned suppressed_ = 0;
  uint64_t window_ns_ = 0;  // event time the current one-second window began
};

}  // namespace ngxwatch
