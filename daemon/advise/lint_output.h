#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "advise/lint_finding.h"

namespace ngxwatch::advise {

// Human-readable: "file:line: severity [rule] message" plus an indented fix line, and
// a summary line.
std::string format_lint_text(const std::vector<LintFinding>& findings);

// {"tool", "version", "input", "findings": [{rule_id, severity, file, line, message,
// fix}], "summary": {error, warning, info, total}}; schema:
// tests/data/lint/lint-output.schema.json.
std::string format_lint_json(const std::vector<LintFinding>& findings, std::string_view input);

// SARIF 2.1.0 for code-scanning UIs: every catalog rule in driver.rules, one result
// per finding (info maps to level "note").
std::string format_lint_sarif(const std::vector<LintFinding>& findings);

// A file path as a SARIF artifact URI: absolute paths become file:// URIs, relative
// ones stay relative; bytes outside RFC 3986's unreserved set are percent-encoded.
std::string path_to_uri(std::string_view path);

}  // namespace ngxwatch::advise
