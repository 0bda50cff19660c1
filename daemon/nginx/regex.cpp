#define PCRE2_CODE_UNIT_WIDTH 8
#include "nginx/regex.h"

#include <pcre2.h>

#include "nginx/config_error.h"

namespace ngxwatch::nginx {

Regex::Regex(const std::string& pattern, bool caseless, const std::string& file, int line)
    : pattern_(pattern) {
  int err = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   caseless ? PCRE2_CASELESS : 0, &err, &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof buf);
    throw ConfigError(file, line,
                      "pcre2_compile() failed: " + std::string(reinterpret_cast<char*>(buf)) +
                          " in \"" + pattern + "\" at offset " + std::to_string(offset));
  }
  code_ = code;
  match_data_ = pcre2_match_data_create_from_pattern(code, nullptr);
  // A hostile pattern must not stall the daemon on every request path: bound the
  // backtracking work (nginx would log a regex error and answer 500 in that case).
  pcre2_match_context* ctx = pcre2_match_context_create(nullptr);
  pcre2_set_match_limit(ctx, 200000);
  pcre2_set_depth_limit(ctx, 10000);
  match_context_ = ctx;
}

Regex::~Regex() {
  pcre2_match_context_free(static_cast<pcre2_match_context*>(match_context_));
  pcre2_match_data_free(static_cast<pcre2_match_data*>(match_data_));
  pcre2_code_free(static_cast<pcre2_code*>(code_));
}

bool Regex::matches(std::string_view subject) const {
  int rc = pcre2_match(static_cast<const pcre2_code*>(code_),
                       reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0,
                       static_cast<pcre2_match_data*>(match_data_),
                       static_cast<pcre2_match_context*>(match_context_));
  return rc >= 0;
}

}  // namespace ngxwatch::nginx
