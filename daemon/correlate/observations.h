// What the correlator concludes from the event stream, in label-ready form. The
// exporter (live /metrics) and the offline summary (analyze) both consume these.
#pragma once

#include <optional>
#include <string>

#include "correlate/config_view.h"

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
};

struct ClientStatusObservation {
  Place place;
  int status = 0;
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
};

}  // namespace ngxwatch
