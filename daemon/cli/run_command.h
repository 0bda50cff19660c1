// `ngxwatch run`: the daemon.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "cli/kernel_session.h"

namespace ngxwatch {

struct RunOptions {
  std::string listen = "127.0.0.1:9617";
  size_t max_locations = 200;
  std::string api_socket = "/run/ngxwatch/api.sock";
  SessionOptions session;
  // Re-reads the command line and config file (SIGHUP); nullopt + error on failure.
  std::function<std::optional<RunOptions>(std::string* error)> reload;
};

// Returns the process exit code.
int run_daemon(const RunOptions& opts);

}  // namespace ngxwatch
