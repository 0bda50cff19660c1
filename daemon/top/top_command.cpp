#include "top/top_command.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "top/top_client.h"
#include "top/top_format.h"
#include "top/top_view.h"

namespace ngxwatch {

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

int terminal_width() {
  winsize ws{};
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  return 120;  // piped: wide enough for every column but the long sparkline
}

int run_once(const TopOptions& o) {
  TopClient client(o.api_socket);
  std::string error;
  auto reply = client.get("snapshot", &error);
  if (!reply) {
    std::fprintf(stderr, "ngxwatch top: %s (%s)\n", daemon_unreachable_line(o.api_socket).c_str(),
                 error.c_str());
    return 1;
  }
  if (o.json) {
    std::cout << reply->dump(2) << "\n";
    return 0;
  }
  auto snap = parse_snapshot(*reply, &error);
  if (!snap) {
    std::fprintf(stderr, "ngxwatch top: %s\n", error.c_str());
    return 1;
  }
  TopModel model;
  model.update(std::move(*snap));
  std::cout << plain_table(model, terminal_width());
  return 0;
}

int run_live(const TopOptions& o) {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGHUP, on_signal);
  TopClient client(o.api_socket);
  TopModel model;
  TopViewState st;
  std::string status = "connecting to " + o.api_socket + " ...";
  TopScreen screen(o.api_socket);
  using clock = std::chrono::steady_clock;
  auto next_fetch = clock::now();
  bool dirty = true;
  while (!st.quit && !g_stop) {
    auto now = clock::now();
    if (!st.paused && now >= next_fetch) {
      std::string error;
      // Bounded by the interval: a stuck daemon cannot freeze the keyboard for long.
      auto reply = client.get("snapshot", &error, std::max(200, o.interval_ms));
      std::optional<TopSnapshot> snap;
      if (reply) snap = parse_snapshot(*reply, &error);
      if (snap) {
        model.update(std::move(*snap));
        status.clear();
      } else {
        status = daemon_unreachable_line(o.api_socket) + " (retrying)";
      }
      next_fetch = clock::now() + std::chrono::milliseconds(o.interval_ms);
      dirty = true;
    }
    if (dirty) screen.draw(model, st, status);
    dirty = false;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_fetch - clock::now());
    int ms = static_cast<int>(std::clamp<long>(wait.count(), 10, o.interval_ms));
    if (auto in = screen.read(ms)) dirty = in->resize || apply_key(st, model, in->key, in->ch);
  }
  return g_stop ? 130 : 0;
}

}  // namespace

CLI::App* add_top_command(CLI::App& app, TopOptions& o) {
  CLI::App* top = app.add_subcommand("top", "live terminal view of the running daemon");
  top->add_option("--api-socket", o.api_socket, "the daemon's local API socket")
      ->capture_default_str();
  top->add_flag("--once", o.once, "print one snapshot and exit (plain-text table)");
  top->add_flag("--json", o.json, "with --once: print the snapshot as JSON (implies --once)");
  top->add_option("--interval-ms", o.interval_ms, "refresh interval")
      ->check(CLI::Range(100, 10000))
      ->capture_default_str();
  return top;
}

int run_top(const TopOptions& o) {
  if (o.once || o.json) return run_once(o);
  if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
    // Piped or scripted: one snapshot is what such a reader can use.
    std::fprintf(stderr, "ngxwatch top: not a terminal: one snapshot (--once) instead\n");
    return run_once(o);
  }
  return run_live(o);
}

}  // namespace ngxwatch
