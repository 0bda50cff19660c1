// Request-capture backends, cheapest first, and the --capture-backend choice.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ngxwatch {

enum class CaptureChoice { Auto, Fentry, Kprobe, Tracepoint, None };

// "auto", "fentry", "kprobe", "tracepoint", "none" -> choice; nullopt otherwise.
std::optional<CaptureChoice> parse_capture_choice(const std::string& s);
const char* capture_choice_name(CaptureChoice c);
// Every backend name that ngxwatch_capture_backend{backend} can carry.
const std::vector<std::string>& capture_backend_names();

}  // namespace ngxwatch
