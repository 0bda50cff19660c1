#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace ngxwatch {

struct LintCommandOptions {
  std::string file;
  std::string format = "text";    // text | json | sarif
  std::string fail_on = "error";  // info | warning | error | none
  bool dump = false;              // FILE is `nginx -T` output (also auto-detected)
  std::vector<std::string> disable;
  std::string nginx = "/usr/sbin/nginx";  // for compiled-in temp paths (nginx -V)
  std::string prefix;                     // nginx -p, for relative temp paths
};

// Registers `lint FILE [--format ...] [--fail-on ...] [--dump] ...`. Values are checked
// by run_lint rather than by CLI11, so that every usage error exits with 2 (CI scripts
// tell "findings" (1) from "lint could not run" (2)).
CLI::App* add_lint_command(CLI::App& app, LintCommandOptions& options);

// Prints the report on stdout and returns the exit code: 0 no finding at or above
// --fail-on, 1 some, 2 usage error or a config that could not be read or parsed
// (reported as a config-error finding first).
int run_lint(const LintCommandOptions& options, const std::vector<std::string>& extras);

}  // namespace ngxwatch
