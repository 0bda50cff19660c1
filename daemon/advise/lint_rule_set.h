#pragma once

// The individual rules behind lint_config; each appends its findings to `out`.
#include <vector>

#include "advise/lint_finding.h"
#include "advise/lint_rules.h"
#include "nginx/config_model.h"

namespace ngxwatch::advise {

// Builds a finding with the rule's catalog severity.
LintFinding make_finding(std::string_view rule_id, const std::string& file, int line,
                         std::string message, std::string fix);
// Where a location-level fix goes: the location block's own line.
LintFinding make_finding_at(std::string_view rule_id, const nginx::Location& loc,
                            std::string message, std::string fix);
// "location /x" as written, for messages (the finding carries file:line).
std::string describe(const nginx::Location& loc);

// lint_rules_location.cpp: per proxied location.
void rule_body_size_default(const nginx::Config& c, const LintOptions& o,
                            std::vector<LintFinding>& out);
void rule_upload_timeout(const nginx::Config& c, const LintOptions& o,
                         std::vector<LintFinding>& out);
void rule_buffering_large_body(const nginx::Config& c, const LintOptions& o,
                               std::vector<LintFinding>& out);
void rule_upload_no_rate_limit(const nginx::Config& c, const LintOptions& o,
                               std::vector<LintFinding>& out);

// lint_rules_keepalive.cpp: upstream keepalive and the headers it depends on.
void rule_upstream_no_keepalive(const nginx::Config& c, const LintOptions& o,
                                std::vector<LintFinding>& out);
void rule_keepalive_unused(const nginx::Config& c, const LintOptions& o,
                           std::vector<LintFinding>& out);
void rule_connection_header_dropped(const nginx::Config& c, const LintOptions& o,
                                    std::vector<LintFinding>& out);

// lint_rules_host.cpp: process- and disk-level settings.
void rule_temp_path_on_root(const nginx::Config& c, const LintOptions& o,
                            std::vector<LintFinding>& out);
void rule_rlimit_nofile_low(const nginx::Config& c, const LintOptions& o,
                            std::vector<LintFinding>& out);

}  // namespace ngxwatch::advise
