#pragma once

#include <cstdint>
#include <string_view>

#include "nginx/config_model.h"

namespace ngxwatch::nginx {

// The server block nginx picks for a connection accepted on local_ip:local_port
// with the given Host header (may be empty, may carry ":port").
//  1. Listen match: servers listening on exactly local_ip:port; only if there are
//     none, servers listening on the wildcard address ("*", 0.0.0.0, [::]) of that port.
//  2. server_name among those: exact, then the longest "*.suffix" (or ".suffix"),
//     then the longest "prefix.*", then "~regex" in config order.
//  3. Otherwise the default_server of that listen, else the first such server.
// Returns null when no server listens on the port.
const Server* select_server(const Config& config, std::string_view local_ip, uint16_t local_port,
                            std::string_view host);

}  // namespace ngxwatch::nginx
