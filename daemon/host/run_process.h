#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace ngxwatch::nginx {

struct ProcessResult {
  bool started = false;
  int exit_status = -1;  // exit code, or -1 if killed / not started
  bool timed_out = false;
  std::string out;  // stdout
  std::string err;  // stderr (or why the process could not start)
};

// Runs argv[0] (the absolute path of a root-owned nginx binary, see
// unprivileged_spawn.h) unprivileged with the given arguments, capturing stdout and
// stderr (each capped at 64 MiB). The child is killed after `timeout`.
ProcessResult run_process(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace ngxwatch::nginx
