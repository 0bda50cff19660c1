#include "cli/cli_options.h"

#include <spdlog/spdlog.h>

#include <cctype>
#include <cstdlib>
#include <fstream>

namespace ngxwatch {

namespace {

const auto kPowerOfTwo = CLI::Validator(
    [](std::string& v) -> std::string {
      unsigned long n = std::strtoul(v.c_str(), nullptr, 10);
      return n && !(n & (n - 1)) ? "" : "must be a power of 2";
    },
    "POWER_OF_2");

void add_sample_rate(CLI::App& cmd, SessionOptions& s) {
  cmd.add_option("--sample-rate", s.sample_per_sec,
                 "client requests per second per CPU captured in full; above it the rest are "
                 "sampled (failures always in full); 0: capture every request")
      ->check(CLI::Range(0u, 10000000u))
      ->capture_default_str();
}

void add_capture_backend(CLI::App& cmd, SessionOptions& s) {
  cmd.add_option("--capture-backend", s.capture_backend,
                 "request capture: auto (cheapest this kernel offers: fentry, kprobe, "
                 "tracepoint), one of them, or none (resets and socket state only)")
      ->check(CLI::IsMember({"auto", "fentry", "kprobe", "tracepoint", "none"}))
      ->capture_default_str();
  cmd.add_flag_callback(
      "--no-capture", [&s] { s.capture_backend = "none"; },
      "same as --capture-backend none: no location attribution (cheapest)");
}

}  // namespace

std::unique_ptr<CLI::App> build_cli(CliOptions& o) {
  auto app = std::make_unique<CLI::App>(
      "ngxwatch: who reset which nginx connection, where, why, and the fix");
  app->require_subcommand(1);
  app->set_config("--config", "", "read options from this file (e.g. /etc/ngxwatch/ngxwatch.conf)")
      ->each([&o](const std::string& file) { o.config_file = file; });
  app->allow_config_extras(CLI::config_extras_mode::error);
  app->add_option("--log-level", o.log_level, "trace|debug|info|warn|error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  app->set_version_flag("--version", "ngxwatch 0.1.0");

  o.run_cmd = app->add_subcommand("run", "the daemon: load BPF, follow nginx, serve /metrics");
  CLI::App* run = o.run_cmd;
  run->add_option("--listen", o.run.listen, "metrics address HOST:PORT")->capture_default_str();
  add_capture_backend(*run, o.run.session);
  add_sample_rate(*run, o.run.session);
  run->add_option("--ringbuf-mib", o.run.session.ringbuf_mib, "ring buffer size in MiB")
      ->check(CLI::Range(1u, 1024u) & kPowerOfTwo)
      ->capture_default_str();
  run->add_option("--conn-table-size", o.run.session.conn_table_entries,
                  "entries of the kernel's connection table (LRU; evictions are counted)")
      ->check(CLI::Range(64u, 1u << 22))
      ->capture_default_str();
  run->add_option("--scan-interval-ms", o.run.session.scan_interval_ms,
                  "how often /proc is reconciled with the kernel's nginx filter")
      ->check(CLI::Range(50u, 60000u))
      ->capture_default_str();
  run->add_option("--keep-exited-config", o.run.session.keep_exited_config_s,
                  "seconds an exited nginx master's configuration (and the advice on it) is "
                  "kept; a new master with the same binary, -c and -p continues it")
      ->check(CLI::Range(0u, 30u * 86400u))
      ->capture_default_str();
  run->add_option("--max-locations", o.run.max_locations,
                  "distinct location labels kept; the rest fold into \"(other)\"")
      ->check(CLI::Range(1u, 100000u))
      ->capture_default_str();
  run->add_option("--api-socket", o.run.api_socket, "local JSON API socket (mode 0660), for top")
      ->capture_default_str();

  o.record_cmd =
      app->add_subcommand("record", "capture the event stream (and nginx's config) to a file");
  o.record_cmd->add_option("-o,--output", o.record.output, "trace file to write")->required();
  o.record_cmd->add_option("--duration", o.record.duration_s, "seconds to record (0: until Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  add_capture_backend(*o.record_cmd, o.record.session);
  add_sample_rate(*o.record_cmd, o.record.session);
  o.record_cmd->add_option("--ringbuf-mib", o.record.session.ringbuf_mib, "ring buffer size in MiB")
      ->check(CLI::Range(1u, 1024u) & kPowerOfTwo);

  o.analyze_cmd =
      app->add_subcommand("analyze", "run the pipeline offline on a recorded trace (no root)");
  o.analyze_cmd->add_option("trace", o.analyze.input, "trace file from `ngxwatch record`")
      ->required()
      ->check(CLI::ExistingFile);
  o.analyze_cmd->add_flag("--json", o.analyze.json, "machine-readable output");

  o.lint_cmd = add_lint_command(*app, o.lint);
  o.suggest_cmd = add_suggest_command(*app, o.suggest);
  o.top_cmd = add_top_command(*app, o.top);
  o.explain_cmd = add_explain_command(*app, o.explain);
  o.gate_cmd = add_gate_command(*app, o.gate);
  return app;
}

std::optional<CliOptions> reparse_cli(const std::vector<std::string>& argv, std::string* error) {
  CliOptions o;
  auto app = build_cli(o);
  std::vector<const char*> args;
  for (const auto& a : argv) args.push_back(a.c_str());
  try {
    app->parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::ParseError& e) {
    *error = e.what();
    return std::nullopt;
  }
  return o;
}

std::string locate_config_error(const std::string& file, const std::string& message) {
  // CLI11 names the key as "run.bogus-key", "--ringbuf-mib" or "ringbuf-mib".
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::vector<std::string> words;
  std::string word;
  for (char ch : message + " ") {
    if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.') {
      word += ch;
    } else if (!word.empty()) {
      words.push_back(word);
      word.clear();
    }
  }
  for (std::string key : words) {
    while (!key.empty() && key.front() == '-') key.erase(0, 1);
    if (auto dot = key.rfind('.'); dot != std::string::npos) key = key.substr(dot + 1);
    if (key.size() < 3) continue;
    for (size_t i = 0; i < lines.size(); ++i) {
      std::string l = lines[i];
      size_t start = l.find_first_not_of(" \t");
      if (start == std::string::npos || l[start] == '#') continue;
      size_t eq = l.find('=');
      if (eq == std::string::npos) continue;
      std::string k = l.substr(start, eq - start);
      while (!k.empty() && (k.back() == ' ' || k.back() == '\t')) k.pop_back();
      if (k == key) return file + ":" + std::to_string(i + 1) + ": " + message;
    }
  }
  return file + ": " + message;
}

void configure_logging(const std::string& level) {
  spdlog::set_level(spdlog::level::from_str(level));
  if (std::getenv("JOURNAL_STREAM"))
    spdlog::set_pattern("%l %v");  // the journal stamps time itself
  else
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
}

}  // namespace ngxwatch
