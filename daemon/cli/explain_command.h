// `ngxwatch explain [ERROR_LOG|-] [--trace FILE | --api-socket PATH] [--json]`: each
// upstream-related line of nginx's error log joined with what the kernel saw for that
// request (explain/explain_join.h), from a recorded trace or the running daemon's ring
// of recent failures ({"get":"failures"}).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace ngxwatch {

struct ExplainOptions {
  std::string error_log = "-";  // "-": standard input
  std::string trace;            // recorded trace; "" = ask the running daemon
  std::string api_socket;       // "" = the default socket
  bool json = false;
  double tolerance_s = 2;
  std::string nginx = "/usr/sbin/nginx";  // -V of the trace's nginx (read, not run)
};

CLI::App* add_explain_command(CLI::App& app, ExplainOptions& options);

// Exit: 0 it ran (whether or not lines matched); 2 bad input (an error log or trace
// that cannot be read, a daemon that cannot be reached).
int run_explain_command(const ExplainOptions& options);

}  // namespace ngxwatch
