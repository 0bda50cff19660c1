// Formatting of kernel endpoints for labels and logs.
#pragma once

#include <string>

#include "ngxwatch/events.h"

namespace ngxwatch {

// "127.0.0.1" or "::1" (IPv4-mapped IPv6 addresses print as IPv4).
std::string format_address(const ngxw_endpoint& ep);

// "127.0.0.1:8080" or "[::1]:8080"; empty when the endpoint is all zero.
std::string format_endpoint(const ngxw_endpoint& ep);

const char* tcp_state_name(unsigned state);

}  // namespace ngxwatch
