#include "cli/lint_command.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "advise/lint_catalog.h"
#include "advise/lint_input.h"
#include "advise/lint_output.h"
#include "host/nginx_tool.h"
#include "host/root_filesystem.h"
#include "nginx/nginx_config.h"

namespace ngxwatch {

namespace {

constexpr int kExitFindings = 1;
constexpr int kExitUsage = 2;

int usage_error(const std::string& message) {
  std::cerr << "ngxwatch lint: " << message << "\n"
            << "usage: ngxwatch lint FILE [--format text|json|sarif] "
               "[--fail-on info|warning|error|none] [--dump] [--disable RULE]\n";
  return kExitUsage;
}

}  // namespace

CLI::App* add_lint_command(CLI::App& app, LintCommandOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "lint",
      "static check of an nginx config (or nginx -T output) for large-upload failure modes");
  cmd->add_option("file", o.file, "nginx.conf (includes are followed) or saved `nginx -T` output");
  cmd->add_option("--format", o.format, "text|json|sarif")->capture_default_str();
  cmd->add_option("--fail-on", o.fail_on,
                  "exit 1 when a finding has this severity or higher: info|warning|error|none")
      ->capture_default_str();
  cmd->add_flag("--dump", o.dump, "FILE is `nginx -T` output (detected automatically too)");
  cmd->add_option("--disable", o.disable, "rule id to skip (repeatable, or comma separated)")
      ->delimiter(',');
  cmd->add_option("--nginx", o.nginx, "nginx binary whose -V gives the default temp paths")
      ->capture_default_str();
  cmd->add_option("--prefix", o.prefix, "nginx prefix (-p) for relative temp paths");
  cmd->allow_extras();
  return cmd;
}

int run_lint(const LintCommandOptions& o, const std::vector<std::string>& extras) {
  if (!extras.empty()) return usage_error("unexpected argument \"" + extras[0] + "\"");
  if (o.file.empty()) return usage_error("FILE is required");
  if (o.format != "text" && o.format != "json" && o.format != "sarif") {
    return usage_error("--format must be text, json or sarif, not \"" + o.format + "\"");
  }
  std::optional<advise::Severity> fail_on = advise::parse_severity(o.fail_on);
  if (!fail_on && o.fail_on != "none") {
    return usage_error("--fail-on must be info, warning, error or none, not \"" + o.fail_on + "\"");
  }
  advise::LintOptions options;
  options.prefix = o.prefix;
  options.on_root_filesystem = advise::on_root_filesystem;
  for (const std::string& id : o.disable) {
    if (advise::find_lint_rule(id) == nullptr) return usage_error("unknown rule \"" + id + "\"");
    options.disabled_rules.insert(id);
  }
  // The compiled-in paths, read from the binary (never run); when it is not nginx, the
  // defaults of a source build (/usr/local/nginx) apply.
  nginx::BuildInfo build = nginx::build_info_of(o.nginx);

  advise::LintResult result = advise::lint_path(
      o.file, o.dump ? advise::LintInputKind::kDump : advise::LintInputKind::kAuto, build, options);

  if (o.format == "json") {
    std::cout << advise::format_lint_json(result.findings, o.file);
  } else if (o.format == "sarif") {
    std::cout << advise::format_lint_sarif(result.findings);
  } else {
    std::cout << advise::format_lint_text(result.findings);
  }
  std::cout.flush();

  if (result.config_error) return kExitUsage;
  if (!fail_on) return 0;
  for (const advise::LintFinding& f : result.findings) {
    if (f.severity >= *fail_on) return kExitFindings;
  }
  return 0;
}

}  // namespace ngxwatch
