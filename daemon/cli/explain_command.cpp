#include "cli/explain_command.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <nlohmann/json.hpp>

#include "advise/measurements.h"
#include "advise/suggest.h"
#include "advise/suggest_report.h"
#include "detect/detector_replay.h"
#include "correlate/tee_sink.h"
#include "explain/explain_report.h"
#include "host/nginx_tool.h"
#include "nginx/build_info.h"
#include "nginx/nginx_config.h"
#include "top/top_client.h"
#include "top/top_command.h"

namespace ngxwatch {

namespace {

constexpr int kExitInput = 2;
constexpr size_t kMaxLine = 64 * 1024;  // a longer line is cut there (nginx writes 2 KiB)

int input_error(const std::string& message) {
  std::cerr << "ngxwatch explain: " << message << "\n";
  return kExitInput;
}

// Reads the log line by line, bounded per line whatever the input holds.
std::string read_lines(const std::string& path, std::vector<Explanation>& out, uint64_t& total) {
  std::FILE* f = stdin;
  if (path != "-") {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return path + ": " + std::strerror(errno);
    if (S_ISDIR(st.st_mode)) return path + ": is a directory";
    f = std::fopen(path.c_str(), "rb");  // a FIFO is read as it is written, like stdin
    if (!f) return path + ": " + std::strerror(errno);
  }
  std::string line;
  char buf[8192];
  auto flush = [&] {
    ++total;
    ErrorLogLine l = parse_error_log_line(line);
    if (explainable(l)) {
      Explanation e;
      e.line_wall_s = local_epoch_seconds(l);
      e.line = std::move(l);
      e.line_no = total;
      out.push_back(std::move(e));
    }
    line.clear();
  };
  while (std::fgets(buf, sizeof buf, f)) {
    size_t n = std::strlen(buf);
    bool eol = n > 0 && buf[n - 1] == '\n';
    if (line.size() < kMaxLine) line.append(buf, std::min(n, kMaxLine - line.size()));
    if (eol) flush();
  }
  bool failed = std::ferror(f);
  if (!line.empty()) flush();
  if (f != stdin) std::fclose(f);
  if (failed) return (path == "-" ? std::string("standard input") : path) + ": read error";
  return "";
}

// The trace's failures (same pipeline as `analyze`), the trace's time range and the
// suggestions of `suggest --trace` (its rules; nothing is verified here).
std::string from_trace(const ExplainOptions& o, ExplainInput& in, FailureCoverage& cov) {
  FailureRing ring(nullptr, 1u << 30);  // wall times from the trace's anchor, below
  advise::Measurements measurements;
  TeeSink sinks({&ring, &measurements});
  Detectors detectors(&sinks, /*live=*/false);
  uint64_t first = 0, last = 0;
  auto reader = [&](TraceHeader& h, const RecordFn& fn) {
    return read_trace(o.trace, h, [&](std::span<const uint8_t> r) {
      DecodeResult d = decode_event(r);
      if (d.ok) {
        uint64_t t = event_time_ns(d.event);
        if (!first || t < first) first = t;
        last = std::max(last, t);
      }
      fn(r);
    });
  };
  ReplayResult replay = replay_with_detectors(reader, sinks, detectors);
  if (!replay.error.empty()) return replay.error;
  measurements.add_detectors(detectors);
  cov.source = "trace";
  cov.capacity = ring.capacity();
  std::optional<int64_t> offset = replay.header.wall_offset_ns;
  cov.clock_known = offset.has_value();
  if (!offset)
    in.notes.push_back(o.trace +
                       " was recorded by an older ngxwatch without a wall-clock anchor: "
                       "lines are joined without comparing times");
  auto wall = [&](uint64_t t) { return offset && t ? static_cast<int64_t>(t) + *offset : 0; };
  cov.from_wall_ns = wall(first);
  cov.to_wall_ns = wall(last);
  in.records = ring.records();
  for (auto& r : in.records) r.wall_ns = wall(r.f.ts_ns);
  nginx::BuildInfo build = nginx::build_info_of(o.nginx);
  for (const auto& [master, text] : replay.header.snapshot.configs) {
    try {
      nginx::Config config = nginx::load_from_dump(text, build);
      for (auto& s : advise::suggest(measurements, config)) in.suggestions.push_back(std::move(s));
    } catch (const std::exception& e) {
      in.notes.push_back("the configuration of nginx master " + std::to_string(master) +
                         " in the trace does not load (" + e.what() + "): no suggestions from it");
    }
  }
  return "";
}

// The running daemon's ring of recent failures, and its verified suggestions.
std::string from_daemon(const ExplainOptions& o, ExplainInput& in, FailureCoverage& cov) {
  std::string socket = o.api_socket.empty() ? kDefaultApiSocket : o.api_socket;
  TopClient client(socket);
  std::string error;
  auto reply = client.get("failures", &error, 10000);
  if (!reply) return daemon_unreachable_line(socket) + " (" + error + ")";
  try {
    for (const auto& j : reply->at("failures")) in.records.push_back(failure_record_from_json(j));
    cov.source = "daemon";
    cov.capacity = reply->at("capacity").get<size_t>();
    cov.dropped = reply->at("dropped").get<uint64_t>();
    cov.from_wall_ns = reply->at("started_wall_ns").get<int64_t>();
    cov.to_wall_ns = reply->at("now_wall_ns").get<int64_t>();
    if (!in.records.empty()) cov.oldest_kept_wall_ns = in.records.front().wall_ns;
  } catch (const std::exception& e) {
    return "the daemon's reply is not a failure list: " + std::string(e.what());
  }
  // nginx -t per change runs in the daemon: allow it time. Without it the lines are
  // still explained.
  auto report = client.get("suggest", &error, 60000);
  if (!report) {
    in.notes.push_back("no suggestions from the daemon (" + error + ")");
    return "";
  }
  try {
    for (auto& item : advise::suggest_report_from_json(*report).items)
      in.suggestions.push_back(std::move(item.suggestion));
  } catch (const std::exception& e) {
    in.notes.push_back(std::string("the daemon's suggest reply does not read: ") + e.what());
  }
  return "";
}

}  // namespace

CLI::App* add_explain_command(CLI::App& app, ExplainOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "explain", "each upstream error line of nginx's error log, with what the kernel saw");
  cmd->add_option("error_log", o.error_log, "nginx's error log, or - for standard input")
      ->capture_default_str();
  auto* trace = cmd->add_option("--trace", o.trace,
                                "recorded trace (`ngxwatch record`) covering the log's time");
  cmd->add_option("--api-socket", o.api_socket,
                  "without --trace: the running daemon's local API socket (default " +
                      std::string(kDefaultApiSocket) + ")")
      ->excludes(trace);
  cmd->add_flag("--json", o.json, "a JSON array, one object per line");
  cmd->add_option("--tolerance", o.tolerance_s,
                  "seconds a kernel record may lie around the line's second")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--nginx", o.nginx, "with --trace: nginx binary whose -V defaults apply (read)")
      ->capture_default_str();
  return cmd;
}

int run_explain_command(const ExplainOptions& o) {
  ExplainInput in;
  if (auto e = read_lines(o.error_log, in.lines, in.lines_read); !e.empty()) return input_error(e);
  FailureCoverage cov;
  std::string error = o.trace.empty() ? from_daemon(o, in, cov) : from_trace(o, in, cov);
  if (!error.empty()) return input_error(error);
  in.lines = join_error_log(std::move(in.lines), in.records, cov, JoinOptions{o.tolerance_s});
  if (o.json) {
    for (const auto& n : in.notes) std::cerr << "ngxwatch explain: " << n << "\n";
    std::cout << explain_json(in).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else {
    std::cout << explain_text(in);
  }
  return 0;
}

}  // namespace ngxwatch
