#include "cli/suggest_command.h"

#include <unistd.h>

#include <iostream>
#include <optional>

#include "advise/suggest_report.h"
#include "common/file_read.h"
#include "correlate/nginx_config_view.h"
#include "detect/detector_replay.h"
#include "nginx/nginx_config.h"

namespace ngxwatch {

namespace {

constexpr int kExitRefused = 1;
constexpr int kExitInput = 2;

int input_error(const std::string& message) {
  std::cerr << "ngxwatch suggest: " << message << "\n";
  return kExitInput;
}

// The trace's snapshot names the real files; say when this host's differ, since the
// diff is made against the recorded text.
std::vector<std::string> compare_with_disk(const nginx::Config& config) {
  std::vector<std::string> notes;
  for (const nginx::SourceFile& f : config.parsed().files) {
    std::optional<std::string> disk = read_file(f.path);
    if (!disk) {
      notes.push_back(f.path + " is not on this host: the diff is against the recorded text");
    } else if (*disk != f.text) {
      notes.push_back(f.path + " changed since the trace was recorded: the diff is against " +
                      "the recorded text (use --conf " + config.parsed().main_file +
                      " to diff the current files)");
    }
  }
  return notes;
}

}  // namespace

CLI::App* add_suggest_command(CLI::App& app, SuggestOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "suggest", "config fixes from measurements, as a unified diff verified with nginx -t");
  cmd->add_option("--trace", o.trace,
                  "recorded trace (`ngxwatch record`) to take measurements from")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--json", o.json, "machine-readable output");
  cmd->add_option("--nginx", o.nginx, "nginx binary for nginx -t on the copy (and -V)")
      ->capture_default_str();
  cmd->add_option("--conf", o.conf, "diff these nginx files instead of the trace's snapshot");
  cmd->add_option("--prefix", o.prefix, "nginx prefix (-p) for --conf and nginx -t");
  return cmd;
}

// A trace may hold several masters' configurations (several nginx on one host):
// advise on the one whose servers and locations the measurements are about.
const std::string* config_for(const TraceHeader& header, const advise::Measurements& m,
                              const nginx::BuildInfo& build) {
  const std::string* best = nullptr;
  size_t best_hits = 0;
  for (const auto& [master, text] : header.snapshot.configs) {
    size_t hits = 0;
    try {
      NginxConfigView view(std::make_shared<nginx::Config>(nginx::load_from_dump(text, build)));
      for (const auto& [key, unused] : m.locations())
        hits += view.location_of(Place{"", key.first, key.second}) != nullptr;
    } catch (const std::exception&) {
      // Not loadable here: it cannot be the one to advise on, unless it is the only one.
    }
    if (!best || hits > best_hits) {
      best = &text;
      best_hits = hits;
    }
  }
  return best;
}

int run_suggest_command(const SuggestOptions& o) {
  if (o.trace.empty()) {
    return input_error(
        "not yet: the daemon's API is not available; use `ngxwatch record -o FILE` + "
        "`ngxwatch suggest --trace FILE`");
  }
  advise::Measurements measurements;
  // The detectors' failures (temp_file_error, worker_connections_exhausted) are
  // measurements too.
  Detectors detectors(&measurements, /*live=*/false);
  ReplayResult replay = replay_with_detectors(o.trace, measurements, detectors);
  if (!replay.error.empty()) return input_error(replay.error);
  measurements.add_detectors(detectors);

  bool runnable = ::access(o.nginx.c_str(), X_OK) == 0;
  nginx::BuildInfo build = runnable ? nginx::run_nginx_V(o.nginx) : nginx::parse_nginx_V("");
  std::optional<nginx::Config> config;
  std::vector<std::string> notes;
  try {
    if (!o.conf.empty()) {
      config = nginx::load_from_file(o.conf, o.prefix, build);
    } else if (replay.header.snapshot.configs.empty()) {
      return input_error(o.trace + " holds no nginx configuration: use --conf");
    } else {
      config = nginx::load_from_dump(*config_for(replay.header, measurements, build), build);
      notes = compare_with_disk(*config);
    }
  } catch (const std::exception& e) {
    return input_error(std::string("cannot load the nginx configuration, so no change can be "
                                   "verified: ") +
                       e.what());
  }
  advise::SuggestReport report =
      advise::run_suggest(measurements, *config, advise::VerifyOptions{o.nginx, o.prefix});
  report.notes = std::move(notes);
  std::cout << (o.json ? advise::format_suggest_json(report) : advise::format_suggest_text(report));
  std::cout.flush();
  if (!report.config_error.empty()) {
    std::cerr << "ngxwatch suggest: no change verified: the configuration fails nginx -t here: "
              << report.config_error << "\n";
    return kExitInput;
  }
  return report.ok() ? 0 : kExitRefused;
}

}  // namespace ngxwatch
