#include "cli/gate_command.h"

#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "host/live_suggest.h"
#include "advise/suggest_report.h"
#include "cli/load_child.h"
#include "gate/gate_junit.h"
#include "gate/gate_output.h"
#include "gate/gate_pipeline.h"
#include "gate/gate_snapshot.h"
#include "gate/gate_thresholds.h"
#include "top/top_client.h"

namespace ngxwatch {

namespace {

using Clock = std::chrono::steady_clock;

int usage_error(const std::string& line) {
  std::cerr << "ngxwatch gate: " << line << "\n";
  return kGateExitUsage;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// What the load did, and the moment it ended.
struct LoadRun {
  int status = 0;
  double seconds = 0;
  std::string runs_as;
};

// The in-process way: attach probes, run the load, drain, read the sinks.
int gate_with_probes(const GateOptions& o, const std::atomic<bool>& stop, gate::GateReport* out) {
  gate::GatePipeline pipeline;
  std::string error;
  uint64_t bad_records = 0;
  auto session = KernelSession::open(
      o.session,
      [&](std::span<const uint8_t> bytes) {
        DecodeResult r = decode_event(bytes);
        if (r.ok)
          pipeline.on_event(r.event, monotonic_ns());
        else if (bad_records++ < 5)
          spdlog::warn("dropping a malformed kernel record: {}", r.error);
      },
      nullptr, &error);
  if (!session) return usage_error("cannot watch nginx: " + error);
  uint64_t config_version = ~0ull;
  std::shared_ptr<const ConfigSet> configs;
  size_t masters_seen = 0;
  auto use_latest_configs = [&] {
    if (session->configs().version() == config_version) return;
    config_version = session->configs().version();
    configs = session->configs().current();
    masters_seen = std::max<size_t>(masters_seen, configs->masters);
    pipeline.set_configs(configs);
  };
  use_latest_configs();

  auto child = LoadChild::start(o.load, o.keep_root, o.json, &error);
  if (!child) return usage_error(error);
  Clock::time_point started = Clock::now(), ended{};
  LoadRun load;
  load.runs_as = child->runs_as();
  bool forwarded = false;
  std::atomic<bool> done{false};
  error = session->run(done, [&] {
    use_latest_configs();
    pipeline.tick(monotonic_ns());
    if (stop.load() && !forwarded) {  // Ctrl-C or SIGTERM: the load stops first
      child->signal(SIGTERM);
      forwarded = true;
    }
    if (ended == Clock::time_point{}) {
      if (auto st = child->poll()) {
        load.status = *st;
        load.seconds = seconds_since(started);
        ended = Clock::now();
      }
    } else if (Clock::now() - ended >= std::chrono::milliseconds(o.drain_ms)) {
      done.store(true);  // the pipeline has seen the load's last resets
    }
  });
  if (!error.empty()) return usage_error(error);
  pipeline.tick(monotonic_ns());

  gate::GateReport r = pipeline.report();
  r.load_status = load.status;
  r.load_seconds = load.seconds;
  if (!load.runs_as.empty()) r.notes.push_back("the load ran as " + load.runs_as);
  if (masters_seen == 0 && r.events == 0)
    return usage_error(
        "no nginx master ran on this host during the load: nothing was watched, nothing "
        "to judge");
  if (bad_records) r.notes.push_back(std::to_string(bad_records) + " malformed kernel records");
  uint64_t dropped = session->maps().counter(NGXW_CTR_EVENTS_DROPPED);
  if (dropped)
    r.notes.push_back(std::to_string(dropped) +
                      " kernel events dropped (ring buffer full): counts may be low");
  if (o.suggest && configs) {
    // The gate's measurements are one set (its detectors' state is per location, not
    // per master): every master it watched is judged on them; a gate runs around one
    // nginx in practice.
    advise::MeasurementsByNginx by_nginx;
    advise::Measurements m = pipeline.measurements();
    for (const auto& [pid, view] : configs->by_pid)
      if (view) by_nginx.try_emplace(view->instance(), m);
    if (configs->only) by_nginx.try_emplace(configs->only->instance(), m);
    advise::LiveReport s = advise::suggest_live(by_nginx, *configs, {});
    if (!s.error.empty())
      r.notes.push_back("no suggestions: " + s.error);
    else if (!s.report.items.empty())
      r.suggestions = advise::format_suggest_text(s.report);
  }
  *out = std::move(r);
  return 0;
}

// With a running daemon: its snapshot before and after the load; the difference.
int gate_with_daemon(const GateOptions& o, const std::atomic<bool>& stop, gate::GateReport* out) {
  TopClient client(o.api_socket);
  std::string error;
  auto before = client.get("snapshot", &error);
  if (!before) return usage_error(daemon_unreachable_line(o.api_socket) + " (" + error + ")");
  auto child = LoadChild::start(o.load, o.keep_root, o.json, &error);
  if (!child) return usage_error(error);
  Clock::time_point started = Clock::now();
  bool forwarded = false;
  std::optional<int> status;
  while (!(status = child->poll())) {
    if (stop.load() && !forwarded) {
      child->signal(SIGTERM);
      forwarded = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  double load_seconds = seconds_since(started);
  // The daemon's loop must see the load's last resets before the second snapshot.
  std::this_thread::sleep_for(std::chrono::milliseconds(o.drain_ms));
  auto after = client.get("snapshot", &error);
  if (!after) return usage_error(daemon_unreachable_line(o.api_socket) + " (" + error + ")");
  gate::GateReport r;
  try {
    r = gate::from_snapshots(*before, *after);
  } catch (const std::exception& e) {
    return usage_error("the daemon's snapshot is not one this gate reads: " +
                       std::string(e.what()));
  }
  r.source = "the daemon's API " + o.api_socket;
  r.load_status = *status;
  r.load_seconds = load_seconds;
  if (!child->runs_as().empty()) r.notes.push_back("the load ran as " + child->runs_as());
  bool any_failure = r.client_error_total() > 0;
  for (const auto& l : r.locations) any_failure = any_failure || !l.failures.empty();
  if (o.suggest && any_failure) {
    if (auto reply = client.get("suggest", &error, 60000)) {
      try {
        advise::SuggestReport s = advise::suggest_report_from_json(*reply);
        if (!s.items.empty()) r.suggestions = advise::format_suggest_text(s);
      } catch (const std::exception& e) {
        r.notes.push_back("no suggestions: the daemon's reply: " + std::string(e.what()));
      }
    } else {
      r.notes.push_back("no suggestions: " + error);
    }
  }
  *out = std::move(r);
  return 0;
}

}  // namespace

CLI::App* add_gate_command(CLI::App& app, GateOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "gate", "run a load command while watching nginx; fail over thresholds (CI release gate)");
  cmd->add_option("--max-client-errors", o.max_client_errors,
                  "client-visible errors (502/504/499/413/400 after a failure) allowed")
      ->capture_default_str();
  cmd->add_option(
      "--fail-on", o.fail_on,
      "comma-separated failure causes (e.g. upstream_reset_sending_body,keepalive_race) "
      "that fail the run if any occurred");
  cmd->add_option("--junit", o.junit, "write a JUnit XML report (one test case per location)");
  cmd->add_flag("--json", o.json, "machine-readable verdict");
  cmd->add_option("--api-socket", o.api_socket,
                  "read the running daemon's API (snapshot before and after) instead of "
                  "attaching probes");
  cmd->add_option("--drain-ms", o.drain_ms,
                  "after the load exits, keep watching this long for its last events")
      ->check(CLI::Range(0u, 60000u))
      ->capture_default_str();
  cmd->add_flag("--load-as-root", o.keep_root,
                "under sudo, run the load as root too (default: as SUDO_UID)");
  cmd->add_flag_callback(
      "--no-suggest", [&o] { o.suggest = false; }, "skip the suggested config diff");
  cmd->add_option("--capture-backend", o.session.capture_backend,
                  "request capture (see `run --capture-backend`)")
      ->check(CLI::IsMember({"auto", "fentry", "kprobe", "tracepoint", "none"}))
      ->capture_default_str();
  cmd->add_option("load", o.load, "the load command and its arguments, after --")->required();
  // Short delays: a gate is short, nginx's new workers must be picked up at once.
  o.session.scan_interval_ms = 250;
  o.session.sample_per_sec = 0;  // a gate counts every request
  return cmd;
}

int run_gate(const GateOptions& o) {
  // stdout is the verdict's (JSON with --json): the probes' log lines go to stderr.
  auto level = spdlog::get_level();
  spdlog::set_default_logger(spdlog::stderr_color_mt("gate"));
  spdlog::set_level(level);
  const std::atomic<bool>& stop = install_stop_signals();
  gate::Thresholds t;
  t.max_client_errors = o.max_client_errors;
  std::string error;
  t.fail_on = gate::parse_causes(o.fail_on, &error);
  if (!error.empty()) return usage_error(error);
  if (!o.junit.empty()) {  // before the load runs, not after: a typo costs no load run
    std::ofstream probe(o.junit, std::ios::app);
    if (!probe) return usage_error("cannot write the JUnit report " + o.junit);
  }
  gate::GateReport r;
  int rc = o.api_socket.empty() ? gate_with_probes(o, stop, &r) : gate_with_daemon(o, stop, &r);
  if (rc != 0) return rc;
  r.load_command = o.load;
  std::vector<std::string> reasons = gate::run_reasons(r, t);
  std::cout << (o.json ? gate::format_json(r, reasons) : gate::format_text(r, reasons));
  std::cout.flush();
  if (!o.junit.empty()) {
    std::ofstream out(o.junit, std::ios::trunc);
    out << gate::format_junit(r, t, reasons);
    if (!out.flush()) return usage_error("cannot write the JUnit report " + o.junit);
  }
  if (r.load_status != 0) return r.load_status;
  return reasons.empty() ? 0 : 1;
}

}  // namespace ngxwatch
