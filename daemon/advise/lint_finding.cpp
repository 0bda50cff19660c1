#include "advise/lint_finding.h"

#include <tuple>

namespace ngxwatch::advise {

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kError:
      return "error";
  }
  return "error";
}

std::optional<Severity> parse_severity(std::string_view text) {
  if (text == "info") return Severity::kInfo;
  if (text == "warning") return Severity::kWarning;
  if (text == "error") return Severity::kError;
  return std::nullopt;
}

std::string LintFinding::where() const {
  return line > 0 ? file + ":" + std::to_string(line) : file;
}

bool finding_less(const LintFinding& a, const LintFinding& b) {
  return std::tie(a.file, a.line, a.rule_id, a.message) <
         std::tie(b.file, b.line, b.rule_id, b.message);
}

}  // namespace ngxwatch::advise
