// The offline report of `ngxwatch analyze`: observations aggregated per upstream,
// location and phase/cause, with one piece of evidence each, as text or JSON.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "correlate/observations.h"
#include "detect/finding.h"

namespace ngxwatch {

class Summary : public ObservationSink {
 public:
  void on_reset(const ResetObservation& r) override;
  void on_failure(const FailureObservation& f) override;
  void on_client_visible(const ClientStatusObservation& s) override;
  void on_retry_absorbed(const Place& place) override;

  // The detectors' verdicts over the whole trace (retry storms, exhaustion, temp fill).
  void set_findings(std::vector<Finding> f) { findings_ = std::move(f); }
  std::string text() const;
  std::string json(uint64_t events, uint64_t bad_records) const;

  struct ResetRow {
    uint64_t count = 0;
    double max_age_s = 0;
  };
  struct FailureRow {
    uint64_t count = 0;
    std::string phase;
    std::string evidence;  // of the first one
    std::string request;   // redacted
    bool non_idempotent = false;
    uint64_t duplicate_risk = 0;  // of them, may have run on the backend
    std::string risky_methods;    // their methods ("POST,PATCH")
  };
  // side, origin, upstream, peer, server, location, phase
  using ResetKey = std::tuple<std::string, std::string, std::string, std::string, std::string,
                              std::string, std::string>;
  // upstream, server, location, cause
  using FailureKey = std::tuple<std::string, std::string, std::string, std::string>;

  const std::map<ResetKey, ResetRow>& resets() const { return resets_; }
  const std::map<FailureKey, FailureRow>& failures() const { return failures_; }
  // (server, location, status) -> client-visible errors
  const std::map<std::tuple<std::string, std::string, int>, uint64_t>& client_visible() const {
    return visible_;
  }

 private:
  std::map<ResetKey, ResetRow> resets_;
  std::map<FailureKey, FailureRow> failures_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> visible_;
  std::map<std::pair<std::string, std::string>, uint64_t> absorbed_;
  std::vector<Finding> findings_;
};

}  // namespace ngxwatch
