#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "advise/lint_finding.h"
#include "advise/lint_rules.h"
#include "nginx/build_info.h"

namespace ngxwatch::advise {

enum class LintInputKind {
  kAuto,  // `nginx -T` output when it has a "# configuration file PATH:" line, else a file
  kFile,  // a configuration file; includes are followed on disk
  kDump,  // `nginx -T` output; files and lines are the ones named in it
};

struct LintResult {
  std::vector<LintFinding> findings;
  // The configuration could not be read or parsed: findings hold one config-error and
  // nothing else was checked.
  bool config_error = false;
};

// True when `text` looks like `nginx -T` output.
bool looks_like_nginx_T(std::string_view text);

// Loads `path` and runs lint_config. Read and parse failures (missing or unreadable
// includes, syntax errors) become a config-error finding at the file:line nginx would
// name, never an exception.
LintResult lint_path(const std::string& path, LintInputKind kind, const nginx::BuildInfo& build,
                     const LintOptions& options);

}  // namespace ngxwatch::advise
