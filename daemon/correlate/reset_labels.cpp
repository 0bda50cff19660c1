#include "correlate/reset_labels.h"

#include <cstring>

#include "common/net_format.h"

namespace ngxwatch {

const char* side_name(unsigned side) {
  switch (side) {
    case NGXW_SIDE_UPSTREAM:
      return "upstream";
    case NGXW_SIDE_CLIENT:
      return "client";
    default:
      return "unknown";
  }
}

const char* origin_name(unsigned origin) {
  switch (origin) {
    case NGXW_ORIGIN_PEER:
      return "peer";
    case NGXW_ORIGIN_NGINX:
      return "nginx";
    default:
      return "";
  }
}

ResetLabels reset_labels(const ngxw_conn_event& e) {
  ResetLabels l{side_name(e.side), origin_name(e.origin), ""};
  if (e.side == NGXW_SIDE_UPSTREAM) l.peer = format_endpoint(e.remote);
  return l;
}

ResetLabels reset_labels(const ngxw_reset_key& k) {
  ResetLabels l{side_name(k.side), origin_name(k.origin), ""};
  if (k.side == NGXW_SIDE_UPSTREAM) {
    ngxw_endpoint ep{};
    std::memcpy(ep.addr, k.addr, sizeof(ep.addr));
    ep.port = k.port;
    ep.family = k.family;
    l.peer = format_endpoint(ep);
  }
  return l;
}

}  // namespace ngxwatch
