// `ngxwatch run`: the daemon.
#pragma once

#include <string>

namespace ngxwatch {

struct RunOptions {
  std::string listen = "127.0.0.1:9617";
  unsigned ringbuf_mib = 4;
  unsigned scan_interval_ms = 1000;
};

// Returns the process exit code.
int run_daemon(const RunOptions& opts);

}  // namespace ngxwatch
