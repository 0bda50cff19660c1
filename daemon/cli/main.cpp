// ngxwatch command line: one subcommand per user task (see DESIGN.md).
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/lint_command.h"
#include "cli/run_command.h"

int main(int argc, char** argv) {
  CLI::App app{"ngxwatch: who reset which nginx connection, where, why, and the fix"};
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.set_version_flag("--version", "ngxwatch 0.1.0");

  ngxwatch::RunOptions run;
  CLI::App* run_cmd =
      app.add_subcommand("run", "the daemon: load BPF, follow nginx, serve /metrics");
  run_cmd->add_option("--listen", run.listen, "metrics address HOST:PORT")->capture_default_str();
  run_cmd
      ->add_option("--ringbuf-mib", run.session.ringbuf_mib, "ring buffer size in MiB (power of 2)")
      ->check(CLI::Range(1u, 1024u))
      ->capture_default_str();
  run_cmd
      ->add_option("--scan-interval-ms", run.session.scan_interval_ms,
                   "how often /proc is reconciled with the kernel's nginx filter")
      ->check(CLI::Range(50u, 60000u))
      ->capture_default_str();

  run_cmd
      ->add_option("--max-locations", run.max_locations,
                   "distinct location labels kept; the rest fold into \"(other)\"")
      ->capture_default_str();

  ngxwatch::LintCommandOptions lint;
  CLI::App* lint_cmd = ngxwatch::add_lint_command(app, lint);

  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  if (*run_cmd) return ngxwatch::run_daemon(run);
  if (*lint_cmd) return ngxwatch::run_lint(lint, lint_cmd->remaining());
  return 0;
}
