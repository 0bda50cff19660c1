#include "nginx/config_lexer.h"

#include "nginx/config_error.h"

namespace ngxwatch::nginx {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += std::string("\\x") + hex[u >> 4] + hex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

std::string unescape_token(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size()) {
      char n = raw[i + 1];
      if (n == '"' || n == '\'' || n == '\\') {
        out.push_back(n);
        ++i;
        continue;
      }
      if (n == 't' || n == 'r' || n == 'n') {
        out.push_back(n == 't' ? '\t' : n == 'r' ? '\r' : '\n');
        ++i;
        continue;
      }
    }
    out.push_back(raw[i]);
  }
  return out;
}

ConfigLexer::ConfigLexer(std::string_view text, std::string file)
    : text_(text), file_(std::move(file)) {}

ConfigLexer::ConfigLexer(std::string_view text, std::string file, size_t pos, int line)
    : text_(text), file_(std::move(file)), pos_(pos), line_(line) {}

void ConfigLexer::fail(const std::string& message) const {
  throw ConfigError(file_, line_, message);
}

ConfigLexer::Token ConfigLexer::next() {
  skip_blanks();
  size_t begin = pos_;
  Token t = read_token();
  t.begin = begin;
  t.end = pos_;
  return t;
}

void ConfigLexer::skip_blanks() {
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    if (c == '\n') {
      ++line_;
      ++pos_;
      continue;
    }
    if (is_space(c)) {
      ++pos_;
      continue;
    }
    if (c == '#') {
      while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      continue;
    }
    return;
  }
}

ConfigLexer::Token ConfigLexer::read_token() {
  if (pos_ < text_.size()) {
    char c = text_[pos_];
    Token t;
    t.line = line_;
    switch (c) {
      case ';':
        ++pos_;
        t.kind = Kind::kSemicolon;
        return t;
      case '{':
        ++pos_;
        t.kind = Kind::kBlockOpen;
        return t;
      case '}':
        ++pos_;
        t.kind = Kind::kBlockClose;
        return t;
      case '"':
      case '\'':
        return read_quoted(c);
      default:
        return read_word();
    }
  }
  Token end;
  end.kind = Kind::kEnd;
  end.line = line_;
  return end;
}

ConfigLexer::Token ConfigLexer::read_word() {
  Token t;
  t.kind = Kind::kWord;
  t.line = line_;
  size_t start = pos_;
  bool prev_dollar = false;
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    if (c == '\\' && pos_ + 1 < text_.size()) {
      if (text_[pos_ + 1] == '\n') ++line_;
      pos_ += 2;
      prev_dollar = false;
      continue;
    }
    // "${name}" is a variable, not a block: only a '{' right after '$' is kept.
    if (c == '{' && prev_dollar) {
      ++pos_;
      prev_dollar = false;
      continue;
    }
    if (is_space(c) || c == ';' || c == '{') break;
    prev_dollar = (c == '$');
    ++pos_;
  }
  t.text = unescape_token(text_.substr(start, pos_ - start));
  return t;
}

ConfigLexer::Token ConfigLexer::read_quoted(char quote) {
  Token t;
  t.kind = Kind::kWord;
  t.line = line_;
  ++pos_;  // opening quote
  size_t start = pos_;
  while (true) {
    if (pos_ >= text_.size()) {
      fail("unexpected end of file, expecting \";\" or \"}\"");
    }
    char c = text_[pos_];
    if (c == '\n') ++line_;
    if (c == '\\' && pos_ + 1 < text_.size()) {
      if (text_[pos_ + 1] == '\n') ++line_;
      pos_ += 2;
      continue;
    }
    if (c == quote) break;
    ++pos_;
  }
  t.text = unescape_token(text_.substr(start, pos_ - start));
  ++pos_;  // closing quote
  check_after_quote();
  return t;
}

// nginx requires a separator after a closing quote ("a"b is an error); ')' is allowed
// so that `if ($x = "y")` parses. The ')' then becomes its own word.
void ConfigLexer::check_after_quote() {
  if (pos_ >= text_.size()) return;  // end of file is reported by the parser
  char c = text_[pos_];
  if (is_space(c) || c == ';' || c == '{' || c == ')') return;
  fail("unexpected \"" + printable(std::string_view(&c, 1)) + "\"");
}

}  // namespace ngxwatch::nginx
