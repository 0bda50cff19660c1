// The reset/failure classifier: from what one socket saw, the phase of the request
// it failed in (nginx's own words) and the cause (DESIGN.md's taxonomy). Pure: the
// same input gives the same verdict live and on a recorded trace.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "attribute/config_view.h"
#include "ngxwatch/events.h"

namespace ngxwatch {

enum class EndKind {
  kResetReceived,  // RST from the peer
  kResetSent,      // RST sent by this host (nginx aborted, or linger-0)
  kFinFromPeer,    // the peer closed first (FIN)
  kFinFromNginx,   // nginx closed first
  kClosed,         // reached CLOSE without FIN (connect failure, abort)
};

struct ClassifyInput {
  uint8_t side = NGXW_SIDE_UPSTREAM;
  EndKind end = EndKind::kResetReceived;
  uint8_t tcp_state = 0;  // state when it happened
  uint8_t old_state = 0;  // previous state (close transitions)
  uint64_t now_ns = 0;
  ngxw_conn_stats stats{};
  // Bytes the current request has in total (head + body), when the head was captured.
  std::optional<uint64_t> request_total;
  // Bytes the current response has in total, when its head was captured.
  std::optional<uint64_t> response_total;
  bool response_started = false;
  Timeouts timeouts;
};

struct Verdict {
  std::string phase;  // connect|send_request|read_header|read_body|idle|client_body|send_response
  std::string error;  // reset|timeout|refused|closed ("" when nothing failed)
  std::string cause;  // failures_total cause ("" when not a failure)
  std::string evidence;
  std::optional<double> keepalive_idle_s;  // for keepalive_race
  bool failure() const { return !cause.empty(); }
};

Verdict classify(const ClassifyInput& in);

}  // namespace ngxwatch
