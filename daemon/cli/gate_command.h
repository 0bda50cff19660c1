// `ngxwatch gate [options] -- LOAD COMMAND...`: runs the load while watching every
// nginx on the host (its own probes, or the running daemon's API with --api-socket),
// prints the attributed verdict and fails the run over the thresholds (CI release gate).
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "cli/kernel_session.h"

namespace ngxwatch {

struct GateOptions {
  uint64_t max_client_errors = 0;
  std::string fail_on;  // comma-separated causes
  std::string junit;    // JUnit XML report to write
  bool json = false;
  std::string api_socket;  // "": attach probes in-process
  unsigned drain_ms = 1500;
  bool keep_root = false;
  bool suggest = true;
  std::vector<std::string> load;
  SessionOptions session;
};

CLI::App* add_gate_command(CLI::App& app, GateOptions& options);

// Exit codes: 0 pass; 1 a threshold crossed; the load command's own status when it
// failed (it takes precedence: the verdict is printed all the same); 2 usage or setup
// error (probes cannot attach, no nginx ran, the daemon unreachable, the load command
// cannot be run, the JUnit file cannot be written).
constexpr int kGateExitUsage = 2;
int run_gate(const GateOptions& options);

}  // namespace ngxwatch
