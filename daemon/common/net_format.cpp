#include "common/net_format.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace ngxwatch {

namespace {

bool is_v4_mapped(const uint8_t* a) {
  static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a, prefix, sizeof(prefix)) == 0;
}

}  // namespace

std::string format_address(const ngxw_endpoint& ep) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ep.family == AF_INET6 && !is_v4_mapped(ep.addr)) {
    inet_ntop(AF_INET6, ep.addr, buf, sizeof(buf));
  } else {
    const uint8_t* v4 = ep.family == AF_INET6 ? ep.addr + 12 : ep.addr;
    inet_ntop(AF_INET, v4, buf, sizeof(buf));
  }
  return buf;
}

std::string format_endpoint(const ngxw_endpoint& ep) {
  bool zero = ep.port == 0 &&
              std::all_of(std::begin(ep.addr), std::end(ep.addr), [](uint8_t b) { return b == 0; });
  if (zero) return "";
  std::string addr = format_address(ep);
  bool v6 = addr.find(':') != std::string::npos;
  return (v6 ? "[" + addr + "]" : addr) + ":" + std::to_string(ep.port);
}

const char* tcp_state_name(unsigned state) {
  static const char* const names[] = {
      "UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",   "TIME_WAIT",
      "CLOSE",   "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "CLOSING",   "NEW_SYN_RECV"};
  return state < sizeof(names) / sizeof(names[0]) ? names[state] : "UNKNOWN";
}

}  // namespace ngxwatch
