#pragma once

#include <string>
#include <string_view>

namespace ngxwatch::nginx {

// Splits nginx configuration text into tokens following ngx_conf_read_token's rules:
// `#` starts a comment only where a token could start, quotes are only special at the
// start of a token, `${` does not open a block, a backslash protects the next
// character, and `\" \' \\ \t \r \n` are unescaped in every word.
class ConfigLexer {
 public:
  enum class Kind { kWord, kSemicolon, kBlockOpen, kBlockClose, kEnd };

  struct Token {
    Kind kind = Kind::kEnd;
    std::string text;  // unescaped word (kWord only)
    int line = 0;      // line the token starts on
    // Byte range of the token in the text, quotes included: edits replace exactly it.
    size_t begin = 0, end = 0;
  };

  // `file` is only used in error messages; `text` must outlive the lexer.
  ConfigLexer(std::string_view text, std::string file);
  // Starts at byte `pos`, which is on line `line` (a token boundary, e.g. a line start).
  ConfigLexer(std::string_view text, std::string file, size_t pos, int line);

  // Next token; throws ConfigError on malformed input.
  Token next();

  const std::string& file() const { return file_; }
  int line() const { return line_; }

 private:
  void skip_blanks();  // and comments
  Token read_token();
  Token read_word();
  Token read_quoted(char quote);
  void check_after_quote();
  [[noreturn]] void fail(const std::string& message) const;

  std::string_view text_;
  std::string file_;
  size_t pos_ = 0;
  int line_ = 1;
};

// `text` with control and non-ASCII bytes as \xNN, to show on one line of an error.
std::string printable(std::string_view text);

// Unescape a raw token the way nginx does when it copies it into cf->args.
std::string unescape_token(std::string_view raw);

}  // namespace ngxwatch::nginx
