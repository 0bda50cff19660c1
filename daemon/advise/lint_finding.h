#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ngxwatch::advise {

// Ordered so that "at or above" comparisons work: info < warning < error.
enum class Severity { kInfo = 0, kWarning = 1, kError = 2 };

std::string_view severity_name(Severity s);
// "info" | "warning" | "error"; nullopt for anything else.
std::optional<Severity> parse_severity(std::string_view text);

// One problem `ngxwatch lint` reports: where it is (the line a fix belongs on, or the
// line that causes it) and what to write instead.
struct LintFinding {
  std::string rule_id;
  Severity severity = Severity::kWarning;
  std::string file;
  int line = 0;  // 0: the file as a whole (it could not be opened)
  std::string message;
  std::string fix;

  std::string where() const;  // "file:line" ("file" alone when line is 0)
};

// Stable report order: file, line, rule id, message.
bool finding_less(const LintFinding& a, const LintFinding& b);

}  // namespace ngxwatch::advise
