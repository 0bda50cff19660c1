#pragma once

#include <stdexcept>
#include <string>

namespace ngxwatch::nginx {

// Every problem found in a configuration, reported the way nginx does: one line,
// "file:line: message", so that an editor or CI log can jump to it.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, std::string message);

  const std::string& file() const { return file_; }
  int line() const { return line_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  int line_;
  std::string message_;
};

}  // namespace ngxwatch::nginx
