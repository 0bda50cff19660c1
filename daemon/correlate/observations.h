// What the correlator concludes from the event stream, in label-ready form. The
// exporter (live /metrics) and the offline summary (analyze) both consume these.
#pragma once

#include <optional>
#include <string>

#include "attribute/config_view.h"

namespace ngxwatch {

struct ResetObservation {
  std::string side;    // upstream|client
  std::string origin;  // peer|nginx
  std::string peer;    // upstream IP:PORT, "" on the client side
  Place place;
  std::string phase;
  std::string reason;  // kernel's reset reason name, may be empty
  double connection_age_s = 0;
  double request_bytes = 0;  // bytes nginx had sent of the current request
  std::optional<double> keepalive_idle_s;
  std::string request;  // redacted request line, for logs and top
};

struct FailureObservation {
  Place place;
  std::string peer;  // "" for failures nginx decided itself (413)
  std::string phase;
  std::string error;  // reset|timeout|refused|closed; "" when not an upstream error
  std::string cause;
  std::string evidence;
  std::string request;  // redacted request line
  bool idempotent = false;
  uint64_t ts_ns = 0;
  // keepalive_race: how long the pooled connection was idle before the request that
  // met the close (an RST or a FIN: the race often ends in a FIN).
  std::optional<double> keepalive_idle_s;
  // A POST/PUT/PATCH whose request had fully reached the backend: it may have run
  // although the client got an error (classify/duplicate_risk.h). method: its class.
  bool duplicate_risk = false;
  std::string method;
  // What `ngxwatch explain` shows of this failure and joins nginx's error-log line on.
  // Redacted like `request`: the client's address is kept in the daemon's memory only
  // (never a label), for the join.
  uint64_t id = 0;   // the correlator's sequence number (on_failure_outcome names it)
  uint32_t pid = 0;  // the nginx worker
  // (Default member initializers throughout: the correlator's brace-initialized
  // observations stop at `method`.)
  std::string client{};                        // client IP:port of the request, "" when unknown
  std::string client_method{}, client_path{};  // the client's request (path: no query)
  std::string ended_by{};                      // who ended it: "upstream: RST", "nginx: FIN", ...
  uint64_t request_bytes_sent = 0;             // of the current request, by nginx on this socket
  std::optional<uint64_t> request_total{};
  uint64_t response_bytes = 0;  // received for the current request
  double connection_age_s = 0;
  double quiet_s = 0;                     // since the last byte either way
  std::optional<double> idle_before_s{};  // a reused connection's idle time before the request
};

struct ClientStatusObservation {
  Place place;
  int status = 0;
};

// One client request that got its final answer (or was abandoned): the input of the
// detectors (retry storms, body sizes, rates) and of the advice. The client address
// and path live in memory only; they never become labels and are never printed raw.
struct RequestObservation {
  Place place;
  std::string client;  // client IP
  std::string method;
  std::string path;  // without query string
  int status = 0;    // final status nginx sent; 499/400 for an abandoned request
  bool idempotent = false;
  std::optional<uint64_t> content_length;  // request body size announced
  uint64_t body_bytes_received = 0;        // request bytes nginx read
  uint64_t ts_ns = 0;                      // when the request started
  double duration_s = 0;                   // start to status
  int upstream_failures = 0;               // upstream attempts that failed for it
  // How many requests this one stands for: above the kernel's sampling rate only
  // every n-th uneventful request is reported, with weight n (failures always 1).
  uint32_t weight = 1;
};

class ObservationSink {
 public:
  virtual ~ObservationSink() = default;
  virtual void on_reset(const ResetObservation& r) = 0;
  virtual void on_failure(const FailureObservation& f) = 0;
  // A 502/504/499/413 (400 for an upload the client abandoned) nginx answered or
  // logged after a failure.
  virtual void on_client_visible(const ClientStatusObservation& s) = 0;
  // nginx retried after an upstream failure and the client got a good answer.
  virtual void on_retry_absorbed(const Place& place) = 0;
  // Every finished client request (most sinks ignore it).
  virtual void on_request(const RequestObservation&) {}
  // What the client got for the request of failure `id` (FailureObservation::id):
  // `status`, and whether nginx retried elsewhere first (retried: status is that answer).
  virtual void on_failure_outcome(uint64_t /*id*/, int /*status*/, bool /*retried*/) {}
};

}  // namespace ngxwatch
