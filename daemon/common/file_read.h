// Small blocking file helpers for /proc and /sys (never called on the event loop).
#pragma once

#include <optional>
#include <string>

namespace ngxwatch {

// Whole file, or nullopt when it cannot be opened (a process that just exited).
std::optional<std::string> read_file(const std::string& path);

std::optional<std::string> read_link(const std::string& path);

}  // namespace ngxwatch
