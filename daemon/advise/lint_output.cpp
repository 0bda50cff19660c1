#include "advise/lint_output.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "advise/lint_catalog.h"

namespace ngxwatch::advise {

namespace {

constexpr const char* kToolVersion = "0.1.0";

struct Counts {
  int error = 0, warning = 0, info = 0;
};

Counts count(const std::vector<LintFinding>& findings) {
  Counts c;
  for (const LintFinding& f : findings) {
    if (f.severity == Severity::kError) ++c.error;
    if (f.severity == Severity::kWarning) ++c.warning;
    if (f.severity == Severity::kInfo) ++c.info;
  }
  return c;
}

std::string_view sarif_level(Severity s) {
  switch (s) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kInfo:
      return "note";
  }
  return "warning";
}

}  // namespace

std::string format_lint_text(const std::vector<LintFinding>& findings) {
  std::string out;
  for (const LintFinding& f : findings) {
    out += f.where() + ": " + std::string(severity_name(f.severity)) + " [" + f.rule_id + "] " +
           f.message + "\n";
    if (!f.fix.empty()) out += "    fix: " + f.fix + "\n";
  }
  Counts c = count(findings);
  if (findings.empty()) {
    out += "no findings\n";
  } else {
    out += std::to_string(findings.size()) + " finding(s): " + std::to_string(c.error) +
           " error, " + std::to_string(c.warning) + " warning, " + std::to_string(c.info) +
           " info\n";
  }
  return out;
}

std::string format_lint_json(const std::vector<LintFinding>& findings, std::string_view input) {
  nlohmann::ordered_json doc;
  doc["tool"] = "ngxwatch";
  doc["version"] = kToolVersion;
  doc["input"] = std::string(input);
  doc["findings"] = nlohmann::ordered_json::array();
  for (const LintFinding& f : findings) {
    doc["findings"].push_back({{"rule_id", f.rule_id},
                               {"severity", std::string(severity_name(f.severity))},
                               {"file", f.file},
                               {"line", f.line},
                               {"message", f.message},
                               {"fix", f.fix}});
  }
  Counts c = count(findings);
  doc["summary"] = {
      {"error", c.error}, {"warning", c.warning}, {"info", c.info}, {"total", findings.size()}};
  // Replace invalid UTF-8 (config bytes quoted in messages) rather than throwing.
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string path_to_uri(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = !path.empty() && path[0] == '/' ? "file://" : "";
  for (unsigned char ch : path) {
    if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '/') {
      out.push_back(static_cast<char>(ch));
    } else {
      out.push_back('%');
      out.push_back(kHex[ch >> 4]);
      out.push_back(kHex[ch & 15]);
    }
  }
  return out;
}

std::string format_lint_sarif(const std::vector<LintFinding>& findings) {
  nlohmann::ordered_json rules = nlohmann::ordered_json::array();
  const std::vector<LintRuleInfo>& catalog = lint_rule_catalog();
  for (const LintRuleInfo& r : catalog) {
    rules.push_back({{"id", std::string(r.id)},
                     {"name", std::string(r.id)},
                     {"shortDescription", {{"text", std::string(r.short_description)}}},
                     {"fullDescription", {{"text", std::string(r.help)}}},
                     {"help", {{"text", std::string(r.help)}}},
                     {"defaultConfiguration", {{"level", std::string(sarif_level(r.severity))}}}});
  }
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  for (const LintFinding& f : findings) {
    nlohmann::ordered_json result = {
        {"ruleId", f.rule_id},
        {"level", std::string(sarif_level(f.severity))},
        {"message", {{"text", f.fix.empty() ? f.message : f.message + ". Fix: " + f.fix}}},
        // SARIF lines start at 1; a file that could not be opened (line 0) points at
        // its first line.
        {"locations",
         {{{"physicalLocation",
            {{"artifactLocation", {{"uri", path_to_uri(f.file)}}},
             {"region", {{"startLine", f.line > 0 ? f.line : 1}}}}}}}}};
    for (size_t i = 0; i < catalog.size(); ++i) {
      if (catalog[i].id == f.rule_id) result["ruleIndex"] = i;
    }
    results.push_back(std::move(result));
  }
  nlohmann::ordered_json doc = {
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs",
       {{{"tool",
          {{"driver", {{"name", "ngxwatch"}, {"version", kToolVersion}, {"rules", rules}}}}},
         {"results", results}}}}};
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace ngxwatch::advise
