#pragma once

#include <string_view>
#include <vector>

#include "advise/lint_finding.h"

namespace ngxwatch::advise {

// Rule ids are descriptive and stable: CI configs (--disable) and code-scanning
// dismissals refer to them, so an id is never renamed or reused.
inline constexpr std::string_view kRuleConfigError = "config-error";
inline constexpr std::string_view kRuleBodySizeDefault = "body-size-default";
inline constexpr std::string_view kRuleUploadTimeout = "upload-timeout";
inline constexpr std::string_view kRuleUpstreamNoKeepalive = "upstream-no-keepalive";
inline constexpr std::string_view kRuleKeepaliveUnused = "keepalive-unused";
inline constexpr std::string_view kRuleConnectionHeaderDropped = "connection-header-dropped";
inline constexpr std::string_view kRuleTempPathOnRoot = "temp-path-on-root";
inline constexpr std::string_view kRuleBufferingLargeBody = "buffering-large-body";
inline constexpr std::string_view kRuleUploadNoRateLimit = "upload-no-rate-limit";
inline constexpr std::string_view kRuleRlimitNofileLow = "rlimit-nofile-low";

// What a rule checks, for `--format sarif` (driver.rules) and the README.
struct LintRuleInfo {
  std::string_view id;
  Severity severity;
  std::string_view short_description;
  std::string_view help;
};

const std::vector<LintRuleInfo>& lint_rule_catalog();
const LintRuleInfo* find_lint_rule(std::string_view id);

}  // namespace ngxwatch::advise
