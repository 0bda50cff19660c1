// Validates a --listen address before the HTTP server is started, so that a busy or
// malformed address is reported as one line with the OS's reason.
#pragma once

#include <string>

namespace ngxwatch {

// Empty when HOST:PORT (or [V6]:PORT) can be bound now; otherwise the reason.
std::string check_listen_address(const std::string& listen);

}  // namespace ngxwatch
