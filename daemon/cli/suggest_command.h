// `ngxwatch suggest`: config fixes as a verified unified diff of the real files, each
// with the evidence behind it. Offline on a recorded trace (--trace); live, from the
// running daemon's measurements over its local API ({"get":"suggest"}).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "top/top_command.h"

namespace ngxwatch {

struct SuggestOptions {
  std::string trace;  // recorded trace; "" = ask the running daemon
  bool json = false;
  std::string nginx = "/usr/sbin/nginx";       // runs nginx -t on the copies (and -V)
  std::string conf;                            // diff these files instead of the trace's snapshot
  std::string prefix;                          // nginx -p for --conf and for nginx -t
  std::string api_socket = kDefaultApiSocket;  // without --trace: the daemon to ask
};

CLI::App* add_suggest_command(CLI::App& app, SuggestOptions& options);

// Prints the report on stdout. Exit codes: 0 every suggestion verified (or none),
// 1 a suggestion's change was refused (the reason is shown instead of its diff),
// 2 no input, a configuration that cannot be loaded or verified, or (live) a daemon
// that cannot be reached or has no report.
int run_suggest_command(const SuggestOptions& options);

}  // namespace ngxwatch
