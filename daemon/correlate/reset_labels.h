// The label values of ngxwatch_resets_total for one reset. Label values come from
// the kernel's socket (side, origin, upstream peer), never from request bytes; the
// client's address is never a label. Each label has its decoder (label_decoder.h).
#pragma once

#include <map>
#include <string>

#include "ngxwatch/events.h"

namespace ngxwatch {

struct ResetLabels {
  std::string side;    // "upstream" | "client"
  std::string origin;  // "peer" | "nginx"
  std::string peer;    // upstream "IP:PORT"; empty on the client side

  std::map<std::string, std::string> as_map() const {
    return {{"side", side}, {"origin", origin}, {"peer", peer}};
  }
};

ResetLabels reset_labels(const ngxw_conn_event& e);
ResetLabels reset_labels(const ngxw_reset_key& k);

}  // namespace ngxwatch
