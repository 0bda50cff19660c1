#include "advise/lint_input.h"

#include "advise/lint_catalog.h"
#include "advise/lint_rule_set.h"
#include "nginx/config_error.h"
#include "nginx/config_parser.h"
#include "nginx/nginx_config.h"

namespace ngxwatch::advise {

namespace {

LintResult config_error(const std::string& file, int line, const std::string& what) {
  LintResult r;
  r.config_error = true;
  r.findings.push_back(make_finding(kRuleConfigError, file, line, what,
                                    "fix the configuration so that `nginx -t` accepts it, then "
                                    "lint again"));
  return r;
}

}  // namespace

bool looks_like_nginx_T(std::string_view text) {
  static constexpr std::string_view kMarker = "# configuration file ";
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, kMarker.size()) == kMarker && line.size() > kMarker.size() + 1 &&
        line.back() == ':') {
      return true;
    }
    pos = eol + 1;
  }
  return false;
}

LintResult lint_path(const std::string& path, LintInputKind kind, const nginx::BuildInfo& build,
                     const LintOptions& options) {
  // Read the main file once up front: an unreadable input is reported like any other
  // config error, and auto-detection needs the text.
  std::string text, error;
  nginx::DiskResolver disk;
  if (!disk.read(path, text, error)) return config_error(path, 0, error);
  bool dump =
      kind == LintInputKind::kDump || (kind == LintInputKind::kAuto && looks_like_nginx_T(text));
  try {
    nginx::Config config =
        dump ? nginx::load_from_dump(text, build) : nginx::load_from_file(path, "", build);
    LintResult r;
    r.findings = lint_config(config, options);
    return r;
  } catch (const nginx::ConfigError& e) {
    return config_error(e.file().empty() ? path : e.file(), e.line(), e.message());
  } catch (const std::exception& e) {
    return config_error(path, 0, e.what());
  }
}

}  // namespace ngxwatch::advise
