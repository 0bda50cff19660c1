#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace ngxwatch::nginx {

// A compiled PCRE2 pattern, matched the way nginx does for `location ~` and
// `server_name ~`: unanchored, byte-wise (no UTF unless the pattern asks for it).
class Regex {
 public:
  // Throws ConfigError(file, line, "pcre2_compile() failed: ...") on a bad pattern.
  Regex(const std::string& pattern, bool caseless, const std::string& file, int line);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  bool matches(std::string_view subject) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  void* code_ = nullptr;           // pcre2_code_8*
  void* match_data_ = nullptr;     // pcre2_match_data_8*; the model is used by one thread
  void* match_context_ = nullptr;  // pcre2_match_context_8*: match and depth limits
};

}  // namespace ngxwatch::nginx
