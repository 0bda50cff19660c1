#include "source/capture_backend.h"

namespace ngxwatch {

namespace {

struct Named {
  CaptureChoice choice;
  const char* name;
};

constexpr Named kNames[] = {{CaptureChoice::Auto, "auto"},
                            {CaptureChoice::Fentry, "fentry"},
                            {CaptureChoice::Kprobe, "kprobe"},
                            {CaptureChoice::Tracepoint, "tracepoint"},
                            {CaptureChoice::None, "none"}};

}  // namespace

std::optional<CaptureChoice> parse_capture_choice(const std::string& s) {
  for (const Named& n : kNames)
    if (s == n.name) return n.choice;
  return std::nullopt;
}

const char* capture_choice_name(CaptureChoice c) {
  for (const Named& n : kNames)
    if (n.choice == c) return n.name;
  return "?";
}

const std::vector<std::string>& capture_backend_names() {
  static const std::vector<std::string> names = {"fentry", "kprobe", "tracepoint"};
  return names;
}

}  // namespace ngxwatch
