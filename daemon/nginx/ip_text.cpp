#include "nginx/ip_text.h"

#include <arpa/inet.h>

#include <cstring>

namespace ngxwatch::nginx {

std::string canonical_ip(std::string_view text) {
  std::string s(text);
  if (s.size() > 1 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (s == "localhost") return "127.0.0.1";
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1 && inet_ntop(AF_INET, buf, out, sizeof out)) {
    return out;
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    // The kernel reports IPv4 peers of dual-stack sockets as ::ffff:a.b.c.d.
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(buf, kMapped, 12) == 0 && inet_ntop(AF_INET, buf + 12, out, sizeof out)) {
      return out;
    }
    if (inet_ntop(AF_INET6, buf, out, sizeof out)) return out;
  }
  return s;
}

std::string ip_port_key(const std::string& canonical, unsigned port) {
  if (canonical.find(':') != std::string::npos) {
    return "[" + canonical + "]:" + std::to_string(port);
  }
  return canonical + ":" + std::to_string(port);
}

}  // namespace ngxwatch::nginx
