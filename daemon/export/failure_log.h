// The structured log of what the correlator concluded: one line per failure and per
// reset (debug), with redacted request lines only. Rate-limited so a flood of
// failures cannot flood the journal.
#pragma once

#include <chrono>
#include <initializer_list>
#include <vector>

#include "correlate/observations.h"

namespace ngxwatch {

class FailureLog : public ObservationSink {
 public:
  explicit FailureLog(unsigned lines_per_second = 20) : budget_(lines_per_second) {}
  void on_reset(const ResetObservation& r) override;
  void on_failure(const FailureObservation& f) override;
  void on_client_visible(const ClientStatusObservation&) override {}
  void on_retry_absorbed(const Place&) override {}

 private:
  bool allow();
  unsigned budget_;
  unsigned used_ = 0;
  unsigned suppressed_ = 0;
  std::chrono::steady_clock::time_point window_{};
};

// Fans one observation out to several sinks.
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
