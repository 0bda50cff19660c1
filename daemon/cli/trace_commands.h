// `ngxwatch record -o FILE` and `ngxwatch analyze FILE`.
#pragma once

#include <string>

#include "cli/kernel_session.h"

namespace ngxwatch {

struct RecordOptions {
  std::string output;
  double duration_s = 0;  // 0: until SIGINT/SIGTERM
  SessionOptions session;
};

struct AnalyzeOptions {
  std::string input;
  bool json = false;
};

int record_trace(const RecordOptions& opts);
int analyze_trace(const AnalyzeOptions& opts);

}  // namespace ngxwatch
