// `analyze` gives the same bytes however fast a trace is fed: nothing below `source`
// reads a clock. One recorded trace is replayed twice, at full speed and slowed down
// (a wall-clock pause at every failure), with analyze's sinks (summary, detectors) and
// the daemon's rate-limited failure log riding on it; every output must be identical.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "correlate/tee_sink.h"
#include "detect/detector_replay.h"
#include "export/failure_log.h"
#include "export/summary.h"

using namespace ngxwatch;

namespace {

// The replay benchmark's mix (tests/data/replay/README.md): 8 upstream failures.
const std::string kTrace = std::string(NGXWATCH_TESTDATA) + "/replay/bench-600.trace";

// Slows the replay down: the pause is wall-clock time the events do not know about.
class Pace : public ObservationSink {
 public:
  explicit Pace(std::chrono::milliseconds pause) : pause_(pause) {}
  void on_reset(const ResetObservation&) override {}
  void on_failure(const FailureObservation&) override {
    ++failures;
    std::this_thread::sleep_for(pause_);
  }
  void on_client_visible(const ClientStatusObservation&) override {}
  void on_retry_absorbed(const Place&) override {}
  size_t failures = 0;

 private:
  std::chrono::milliseconds pause_;
};

struct Output {
  std::string text, json, log;
  size_t failures = 0;
};

Output analyze(std::chrono::milliseconds pause) {
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(log);
  sink->set_pattern("%l %v");
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("replay", sink));
  Summary summary;
  FailureLog failure_log(2);  // a small budget: the limit decides which lines appear
  Pace pace(pause);
  TeeSink sinks({&pace, &summary, &failure_log});
  Detectors detectors(&summary, /*live=*/false);
  ReplayResult r = replay_with_detectors(kTrace, sinks, detectors);
  summary.set_findings(detectors.findings());
  spdlog::set_default_logger(previous);
  EXPECT_EQ(r.error, "");
  return {summary.text(), summary.json(r.events, r.bad_records), log.str(), pace.failures};
}

TEST(ReplaySpeed, AnalyzeAndFailureLogAreTheSameAtAnySpeed) {
  Output fast = analyze(std::chrono::milliseconds(0));
  // More failures than the log's budget, so a wall-clock limit would show here.
  ASSERT_GT(fast.failures, 4u);
  auto pause = std::chrono::milliseconds(1500 / fast.failures + 1);  // >= 1.5 s in all
  Output slow = analyze(pause);
  EXPECT_EQ(slow.failures, fast.failures);
  EXPECT_EQ(slow.text, fast.text);
  EXPECT_EQ(slow.json, fast.json);
  EXPECT_EQ(slow.log, fast.log);
  EXPECT_NE(fast.log.find("info failure cause="), std::string::npos) << fast.log;
}

}  // namespace
