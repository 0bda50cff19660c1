// `nginx -t` on a copy: a suggestion is shown only when nginx accepts the configuration
// with it applied. The copy keeps the files' layout under a temp directory, so
// relative includes resolve as in the original; absolute includes are redirected
// into the copy.
#pragma once

#include <string>

#include "advise/config_check.h"
#include "advise/suggest_report.h"

namespace ngxwatch::advise {

struct VerifyOptions {
  std::string nginx = "/usr/sbin/nginx";
  std::string prefix;  // nginx -p (logs, temp paths, certificates); "" = compiled-in
};

// Why a file name cannot be laid out in the copy ("" when it can): it must be an
// absolute path without empty, "." or ".." components (names come from traces too).
std::string unsafe_name_reason(const std::string& path);

// Writes `files` (original path -> text) under a fresh temp directory and runs nginx
// -t on the copy of `main_file`, unprivileged (host/unprivileged_spawn.h), with the
// files it would write (pid, logs) moved into the copy. The copy is removed afterwards.
VerifyResult verify_config(const FileSet& files, const std::string& main_file,
                           const VerifyOptions& options);

// verify_config with these options, as the check advise/ is handed.
ConfigCheck nginx_check(const VerifyOptions& options);

// The advice checked with nginx -t here (advise/suggest_report.h, with nginx_check).
SuggestReport check_suggestions(std::vector<Suggestion> suggestions, const FileSet& files,
                                const std::string& main_file, const VerifyOptions& options);
SuggestReport run_suggest(const Measurements& measurements, const nginx::Config& config,
                          const VerifyOptions& options);

}  // namespace ngxwatch::advise
