#include "export/failure_log.h"

#include <spdlog/spdlog.h>

namespace ngxwatch {

bool FailureLog::allow(uint64_t ts_ns) {
  // Events from several CPUs arrive slightly out of order: an older one counts in the
  // current window.
  if (ts_ns >= window_ns_ + 1'000'000'000ull) {
    if (suppressed_) spdlog::warn("{} more failure lines suppressed", suppressed_);
    window_ns_ = ts_ns;
    used_ = 0;
    suppressed_ = 0;
  }
  if (used_ < budget_) {
    ++used_;
    return true;
  }
  ++suppressed_;
  return false;
}

void FailureLog::on_reset(const ResetObservation& r) {
  spdlog::debug(
      "reset side={} origin={} upstream={} peer={} server={} location={} phase={} "
      "reason={} age={:.3f}s request=\"{}\"",
      r.side, r.origin, r.place.upstream, r.peer, r.place.server, r.place.location, r.phase,
      r.reason, r.connection_age_s, r.request);
}

void FailureLog::on_failure(const FailureObservation& f) {
  if (!allow(f.ts_ns)) return;
  spdlog::info(
      "failure cause={} upstream={} peer={} server={} location={} phase={} request=\"{}\" "
      "evidence=\"{}\"",
      f.cause, f.place.upstream, f.peer, f.place.server, f.place.location, f.phase, f.request,
      f.evidence);
}

}  // namespace ngxwatch
