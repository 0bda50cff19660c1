#include "advise/lint_rules.h"

#include <algorithm>

#include "advise/lint_catalog.h"
#include "advise/lint_rule_set.h"

namespace ngxwatch::advise {

LintFinding make_finding(std::string_view rule_id, const std::string& file, int line,
                         std::string message, std::string fix) {
  LintFinding f;
  f.rule_id = std::string(rule_id);
  const LintRuleInfo* info = find_lint_rule(rule_id);
  f.severity = info ? info->severity : Severity::kWarning;
  f.file = file;
  f.line = line;
  f.message = std::move(message);
  f.fix = std::move(fix);
  return f;
}

LintFinding make_finding_at(std::string_view rule_id, const nginx::Location& loc,
                            std::string message, std::string fix) {
  return make_finding(rule_id, loc.block ? loc.block->file : std::string(),
                      loc.block ? loc.block->line : 0, std::move(message), std::move(fix));
}

std::string describe(const nginx::Location& loc) { return "location " + loc.as_written; }

std::vector<LintFinding> lint_config(const nginx::Config& config, const LintOptions& options) {
  using Rule = void (*)(const nginx::Config&, const LintOptions&, std::vector<LintFinding>&);
  struct Entry {
    std::string_view id;
    Rule run;
  };
  static constexpr Entry kRules[] = {
      {kRuleBodySizeDefault, rule_body_size_default},
      {kRuleUploadTimeout, rule_upload_timeout},
      {kRuleUpstreamNoKeepalive, rule_upstream_no_keepalive},
      {kRuleKeepaliveUnused, rule_keepalive_unused},
      {kRuleConnectionHeaderDropped, rule_connection_header_dropped},
      {kRuleTempPathOnRoot, rule_temp_path_on_root},
      {kRuleBufferingLargeBody, rule_buffering_large_body},
      {kRuleUploadNoRateLimit, rule_upload_no_rate_limit},
      {kRuleRlimitNofileLow, rule_rlimit_nofile_low},
  };
  std::vector<LintFinding> out;
  for (const Entry& e : kRules) {
    if (options.disabled_rules.count(std::string(e.id)) != 0) continue;
    e.run(config, options, out);
  }
  std::sort(out.begin(), out.end(), finding_less);
  return out;
}

}  // namespace ngxwatch::advise
