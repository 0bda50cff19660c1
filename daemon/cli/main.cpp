// ngxwatch command line: one subcommand per user task (see DESIGN.md).
#include <cstdio>
#include <string>
#include <vector>

#include "cli/cli_options.h"

int main(int argc, char** argv) {
  ngxwatch::CliOptions opts;
  auto app = ngxwatch::build_cli(opts);
  try {
    app->parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // gate is a CI step: a usage error is exit 2, never a code a load could also return.
    if (e.get_exit_code() != 0 && opts.gate_cmd && opts.gate_cmd->parsed())
      return app->exit(e), ngxwatch::kGateExitUsage;
    if (e.get_exit_code() == 0 || opts.config_file.empty()) return app->exit(e);
    // A bad config file: one line naming the file, the line and the key.
    std::fprintf(stderr, "ngxwatch: %s\n",
                 ngxwatch::locate_config_error(opts.config_file, e.what()).c_str());
    return e.get_exit_code();
  }
  ngxwatch::configure_logging(opts.log_level);

  if (*opts.run_cmd) {
    std::vector<std::string> args(argv, argv + argc);
    opts.run.reload = [args](std::string* error) -> std::optional<ngxwatch::RunOptions> {
      auto fresh = ngxwatch::reparse_cli(args, error);
      if (!fresh) return std::nullopt;
      ngxwatch::configure_logging(fresh->log_level);
      return fresh->run;
    };
    return ngxwatch::run_daemon(opts.run);
  }
  if (*opts.record_cmd) return ngxwatch::record_trace(opts.record);
  if (*opts.analyze_cmd) return ngxwatch::analyze_trace(opts.analyze);
  if (*opts.suggest_cmd) return ngxwatch::run_suggest_command(opts.suggest);
  if (*opts.top_cmd) return ngxwatch::run_top(opts.top);
  if (*opts.explain_cmd) return ngxwatch::run_explain_command(opts.explain);
  if (*opts.gate_cmd) return ngxwatch::run_gate(opts.gate);
  if (*opts.lint_cmd) return ngxwatch::run_lint(opts.lint, opts.lint_cmd->remaining());
  return 0;
}
