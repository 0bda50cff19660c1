// The load command of `ngxwatch gate`: run as a child, straight through execvp (never
// through a shell: `sh -c '...'` is the user's choice to make), with the default
// signal dispositions. Under sudo it runs as the invoking user (SUDO_UID/SUDO_GID), so
// the gate's root is not handed to a load script, unless keep_root.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ngxwatch {

class LoadChild {
 public:
  // Started, or nullptr and *error (one line: the command cannot be run, and why).
  // stdout_to_stderr: the load's output goes to stderr (stdout carries JSON).
  static std::unique_ptr<LoadChild> start(const std::vector<std::string>& argv, bool keep_root,
                                          bool stdout_to_stderr, std::string* error);
  ~LoadChild();

  // The exit status once it has exited (128 + N when killed by signal N), else nullopt.
  std::optional<int> poll();
  void signal(int sig);
  pid_t pid() const { return pid_; }
  // "" or who the load runs as ("uid 1000 (SUDO_UID)"), for the report.
  const std::string& runs_as() const { return runs_as_; }

 private:
  LoadChild() = default;
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string runs_as_;
};

}  // namespace ngxwatch
