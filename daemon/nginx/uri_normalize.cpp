#include "nginx/uri_normalize.h"

namespace ngxwatch::nginx {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  char l = static_cast<char>(c | 0x20);
  if (l >= 'a' && l <= 'f') return l - 'a' + 10;
  return -1;
}

enum class State { kUsual, kSlash, kDot, kDotDot };

// Resolves a trailing "/..": the output ends with "<segment>/.." and is cut back to
// the '/' before <segment>. False when that would climb above the root.
bool pop_segment(std::string& out) {
  if (out.size() < 4) return false;
  out.resize(out.size() - 3);
  while (!out.empty() && out.back() != '/') out.pop_back();
  return !out.empty();
}

}  // namespace

std::optional<std::string> normalize_uri(std::string_view target, bool merge_slashes) {
  if (target.empty() || target[0] != '/') return std::nullopt;
  for (char c : target) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return std::nullopt;
  }
  std::string out;
  out.reserve(target.size());
  State state = State::kUsual;
  size_t i = 0;
  while (i < target.size()) {
    char ch = target[i++];
    bool literal = false;  // a decoded '%', '#' or '?' is plain data
    if (ch == '%') {
      if (i + 2 > target.size()) return std::nullopt;
      int hi = hex_value(target[i]), lo = hex_value(target[i + 1]);
      if (hi < 0 || lo < 0) return std::nullopt;
      i += 2;
      ch = static_cast<char>(hi * 16 + lo);
      if (ch == '\0') return std::nullopt;
      literal = (ch == '%' || ch == '#' || ch == '?');
      if (literal) {
        out.push_back(ch);
        state = State::kUsual;
        continue;
      }
    }
    if (ch == '?' || ch == '#') break;
    switch (state) {
      case State::kUsual:
        out.push_back(ch);
        if (ch == '/') state = State::kSlash;
        break;
      case State::kSlash:
        if (ch == '/') {
          if (!merge_slashes) out.push_back(ch);
        } else {
          out.push_back(ch);
          state = ch == '.' ? State::kDot : State::kUsual;
        }
        break;
      case State::kDot:
        if (ch == '/') {
          out.pop_back();  // "/./" -> "/"
          state = State::kSlash;
        } else {
          out.push_back(ch);
          state = ch == '.' ? State::kDotDot : State::kUsual;
        }
        break;
      case State::kDotDot:
        if (ch == '/') {
          if (!pop_segment(out)) return std::nullopt;
          state = State::kSlash;
        } else {
          out.push_back(ch);
          state = State::kUsual;
        }
        break;
    }
  }
  if (state == State::kDot) {
    out.pop_back();
  } else if (state == State::kDotDot) {
    if (!pop_segment(out)) return std::nullopt;
  }
  return out;
}

}  // namespace ngxwatch::nginx
