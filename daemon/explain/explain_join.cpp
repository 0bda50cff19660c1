#include "explain/explain_join.h"

#include <ctime>
#include <map>
#include <tuple>

namespace ngxwatch {

namespace {

constexpr int64_t kNs = 1000000000;

// "127.0.0.1:5678" -> "127.0.0.1", "[::1]:80" -> "::1" (the log names no client port).
std::string address_of(const std::string& endpoint) {
  if (!endpoint.empty() && endpoint.front() == '[') {
    size_t close = endpoint.find(']');
    return close == std::string::npos ? endpoint : endpoint.substr(1, close - 1);
  }
  size_t colon = endpoint.rfind(':');
  return colon == std::string::npos ? endpoint : endpoint.substr(0, colon);
}

bool fits(const Explanation& e, const FailureRecord& r, const JoinOptions& o, bool clock_known) {
  const ErrorLogLine& l = e.line;
  const FailureObservation& f = r.f;
  if (f.pid != 0 && f.pid != l.pid) return false;
  if (!kind_fits_cause(l.kind, f.cause)) return false;
  if (clock_known) {
    if (!e.line_wall_s || r.wall_ns == 0) return false;
    // The line's second covers [s, s+1); the kernel saw it within the tolerance of that.
    double t = static_cast<double>(r.wall_ns) / kNs;
    double s = static_cast<double>(*e.line_wall_s);
    if (t < s - o.tolerance_s || t >= s + 1 + o.tolerance_s) return false;
  }
  if (!l.upstream.empty() && !f.peer.empty() && l.upstream != f.peer) return false;
  if (!l.client.empty() && !f.client.empty() && l.client != address_of(f.client)) return false;
  if (!l.method.empty() && !f.client_method.empty() && l.method != f.client_method) return false;
  if (!l.path.empty() && !f.client_path.empty() && l.path != f.client_path) return false;
  return true;
}

std::string why_unmatched(const Explanation& e, const FailureCoverage& c, const JoinOptions& o) {
  const ErrorLogLine& l = e.line;
  if (c.clock_known && !e.line_wall_s) return "no kernel record: the line's time is not a date";
  if (c.clock_known && e.line_wall_s) {
    int64_t t = *e.line_wall_s * kNs;
    auto tol = static_cast<int64_t>(o.tolerance_s * kNs);
    if (c.from_wall_ns && t + kNs + tol < c.from_wall_ns)
      return c.source == "daemon" ? "no kernel record: daemon not running then (started " +
                                        wall_clock_text(c.from_wall_ns) + ")"
                                  : "no kernel record: before the trace began (" +
                                        wall_clock_text(c.from_wall_ns) + ")";
    if (c.to_wall_ns && t - tol > c.to_wall_ns)
      return c.source == "daemon" ? "no kernel record: the line is newer than the daemon's clock"
                                  : "no kernel record: after the trace ended (" +
                                        wall_clock_text(c.to_wall_ns) + ")";
    if (c.dropped && c.oldest_kept_wall_ns && t + kNs + tol < c.oldest_kept_wall_ns)
      return "no kernel record: older than the failures kept (the last " +
             std::to_string(c.capacity) + ", since " + wall_clock_text(c.oldest_kept_wall_ns) + ")";
  }
  std::string what = "no kernel record: no " + std::string(log_kind_name(l.kind)) +
                     " failure on worker " + std::to_string(l.pid);
  if (!l.upstream.empty()) what += " to " + l.upstream;
  if (!l.client.empty()) what += " for client " + l.client;
  if (c.clock_known) {
    char tol[32];
    std::snprintf(tol, sizeof tol, "%g", o.tolerance_s);
    what += std::string(" within ") + tol + " s";
  }
  return what;
}

}  // namespace

bool explainable(const ErrorLogLine& l) { return l.ok && l.kind != LogKind::kOther; }

bool kind_fits_cause(LogKind kind, const std::string& cause) {
  switch (kind) {
    case LogKind::kUpstreamReset:
    case LogKind::kUpstreamClosed:
      // One upstream failure may be logged as a reset (104), a close or EPIPE
      // depending on which event nginx handled first.
      return cause == "upstream_reset_sending_body" || cause == "upstream_reset_before_header" ||
             cause == "upstream_closed_before_header" || cause == "upstream_reset_mid_response" ||
             cause == "keepalive_race";
    case LogKind::kUpstreamTimeout:
      return cause == "read_timeout" || cause == "send_timeout" || cause == "connect_timeout";
    case LogKind::kConnectRefused:
      return cause == "connect_refused";
    case LogKind::kBodyTooLarge:
      return cause == "body_too_large";
    case LogKind::kTempWriteFailed:
      return cause == "temp_file_error";
    case LogKind::kWorkerConnections:
      return cause == "worker_connections_exhausted";
    case LogKind::kBodyBuffered:  // not a failure: any failure of the same request
    case LogKind::kOther:
      return false;
  }
  return false;
}

std::vector<Explanation> join_error_log(std::vector<Explanation> lines,
                                        const std::vector<FailureRecord>& records,
                                        const FailureCoverage& coverage, const JoinOptions& o) {
  std::vector<bool> taken(records.size(), false);
  // (pid, *N, upstream, method, path) -> the record its first line matched
  using Group = std::tuple<uint32_t, uint64_t, std::string, std::string, std::string>;
  std::map<Group, size_t> groups;
  for (Explanation& e : lines) {
    const ErrorLogLine& l = e.line;
    if (l.kind == LogKind::kBodyBuffered) {
      e.unmatched =
          "not a failure: nginx spooled the request body to a temp file (ngxwatch "
          "counts the bytes per location; a failure of this request has its own line)";
      continue;
    }
    std::optional<size_t> shared;
    if (l.connection) {
      auto g = groups.find({l.pid, *l.connection, l.upstream, l.method, l.path});
      if (g != groups.end() && fits(e, records[g->second], o, coverage.clock_known))
        shared = g->second;
    }
    std::optional<size_t> pick = shared;
    for (size_t i = 0; !pick && i < records.size(); ++i)
      if (!taken[i] && fits(e, records[i], o, coverage.clock_known)) pick = i;
    if (!pick) {
      e.unmatched = why_unmatched(e, coverage, o);
      continue;
    }
    e.record = pick;
    taken[*pick] = true;
    if (l.connection) groups[{l.pid, *l.connection, l.upstream, l.method, l.path}] = *pick;
  }
  return lines;
}

std::string wall_clock_text(int64_t wall_ns) {
  if (wall_ns == 0) return "";
  std::time_t t = static_cast<std::time_t>(wall_ns / kNs);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y/%m/%d %H:%M:%S", &tm);
  return buf;
}

}  // namespace ngxwatch
