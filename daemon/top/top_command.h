// `ngxwatch top`: the live terminal view of a running daemon, over its local API.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace ngxwatch {

inline constexpr const char* kDefaultApiSocket = "/run/ngxwatch/api.sock";

struct TopOptions {
  std::string api_socket = kDefaultApiSocket;
  bool once = false;  // one snapshot, then exit (scripts, tests)
  bool json = false;  // with --once: the raw snapshot JSON
  int interval_ms = 500;
};

CLI::App* add_top_command(CLI::App& app, TopOptions& options);

// Exit code: 0 after q, 1 when --once cannot reach the daemon, 130 after SIGINT/SIGTERM.
int run_top(const TopOptions& options);

}  // namespace ngxwatch
