// The command line (and /etc/ngxwatch/ngxwatch.conf, read through CLI11's config
// support: every key is also a flag). Built by a function so that SIGHUP can parse
// the same arguments again into fresh options.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/explain_command.h"
#include "cli/gate_command.h"
#include "cli/lint_command.h"
#include "cli/run_command.h"
#include "cli/suggest_command.h"
#include "cli/trace_commands.h"
#include "top/top_command.h"

namespace ngxwatch {

struct CliOptions {
  std::string log_level = "info";
  std::string config_file;
  RunOptions run;
  RecordOptions record;
  AnalyzeOptions analyze;
  LintCommandOptions lint;
  SuggestOptions suggest;
  TopOptions top;
  ExplainOptions explain;
  GateOptions gate;
  CLI::App* run_cmd = nullptr;
  CLI::App* lint_cmd = nullptr;
  CLI::App* record_cmd = nullptr;
  CLI::App* analyze_cmd = nullptr;
  CLI::App* suggest_cmd = nullptr;
  CLI::App* top_cmd = nullptr;
  CLI::App* explain_cmd = nullptr;
  CLI::App* gate_cmd = nullptr;
};

std::unique_ptr<CLI::App> build_cli(CliOptions& opts);

// Parses argv again (SIGHUP): the new options, or nullopt with *error set.
std::optional<CliOptions> reparse_cli(const std::vector<std::string>& argv, std::string* error);

// "FILE:LINE: message" for an error CLI11 reports about a key of the config file
// (it names the key, not the line); the message unchanged when no line matches.
std::string locate_config_error(const std::string& file, const std::string& message);

// Log pattern and level; without timestamps under systemd (the journal has them).
void configure_logging(const std::string& level);

}  // namespace ngxwatch
