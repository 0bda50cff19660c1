#pragma once

#include <string>
#include <string_view>

namespace ngxwatch::nginx {

// Canonical text of an IP literal ("0:0::1" -> "::1", "[::1]" -> "::1",
// "::ffff:10.0.0.1" -> "10.0.0.1", "localhost" -> "127.0.0.1"); other text unchanged.
std::string canonical_ip(std::string_view text);

// "ip:port" with IPv6 in brackets, from canonical parts.
std::string ip_port_key(const std::string& canonical, unsigned port);

}  // namespace ngxwatch::nginx
