// Fans one observation out to several sinks. It sits beside the sink interface (not in
// export/) because every stage that rides on the correlator's output uses it: detect
// replays a trace into its detectors and a caller's sink at once.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "correlate/observations.h"

namespace ngxwatch {

class TeeSink : public ObservationSink {
 public:
  TeeSink(std::initializer_list<ObservationSink*> sinks) : sinks_(sinks) {}
  void on_reset(const ResetObservation& r) override {
    for (auto* s : sinks_) s->on_reset(r);
  }
  void on_failure(const FailureObservation& f) override {
    for (auto* s : sinks_) s->on_failure(f);
  }
  void on_client_visible(const ClientStatusObservation& c) override {
    for (auto* s : sinks_) s->on_client_visible(c);
  }
  void on_retry_absorbed(const Place& p) override {
    for (auto* s : sinks_) s->on_retry_absorbed(p);
  }
  void on_request(const RequestObservation& r) override {
    for (auto* s : sinks_) s->on_request(r);
  }
  void on_failure_outcome(uint64_t id, int status, bool retried) override {
    for (auto* s : sinks_) s->on_failure_outcome(id, status, retried);
  }

 private:
  std::vector<ObservationSink*> sinks_;
};

}  // namespace ngxwatch
