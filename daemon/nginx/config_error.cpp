#include "nginx/config_error.h"

namespace ngxwatch::nginx {

namespace {

// Hostile input may put newlines or control bytes into a message (a token quoted
// back to the user); keep the report on one printable line.
std::string one_line(std::string s) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return s;
}

std::string format(const std::string& file, int line, const std::string& message) {
  if (file.empty()) return one_line(message);
  if (line <= 0) return one_line(file + ": " + message);
  return one_line(file + ":" + std::to_string(line) + ": " + message);
}

}  // namespace

ConfigError::ConfigError(std::string file, int line, std::string message)
    : std::runtime_error(format(file, line, message)),
      file_(std::move(file)),
      line_(line),
      message_(std::move(message)) {}

}  // namespace ngxwatch::nginx
