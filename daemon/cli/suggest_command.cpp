#include "cli/suggest_command.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <optional>

#include "advise/config_choice.h"
#include "advise/suggest_report.h"
#include "common/file_read.h"
#include "attribute/nginx_config_view.h"
#include "detect/detector_replay.h"
#include "host/nginx_tool.h"
#include "host/verify.h"
#include "nginx/nginx_config.h"
#include "host/master_files.h"
#include "top/top_client.h"

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
  // The names come from the trace: read as the daemon reads nginx's files (regular
  // files only, capped, never blocking on a FIFO), not with a plain open.
  RootResolver host("/");
  for (const nginx::SourceFile& f : config.parsed().files) {
    std::string text, error;
    std::optional<std::string> disk;
    if (host.read(f.path, text, error)) disk = std::move(text);
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

// Prints the report (`json_text`: its JSON as the daemon sent it) and says which exit.
int print_report(const advise::SuggestReport& report, bool json, const std::string& json_text) {
  std::cout << (json ? json_text : advise::format_suggest_text(report));
  std::cout.flush();
  if (!report.config_error.empty()) {
    std::cerr << "ngxwatch suggest: no change verified: the configuration fails nginx -t here: "
              << report.config_error << "\n";
    return kExitInput;
  }
  return report.ok() ? 0 : kExitRefused;
}

// The daemon makes the report from what it measured so far (its nginx -t runs there).
int run_live(const SuggestOptions& o) {
  if (!o.conf.empty() || !o.prefix.empty())
    return input_error("--conf and --prefix apply to --trace; the daemon uses nginx's own");
  TopClient client(o.api_socket);
  std::string error;
  // nginx -t per suggested change: allow it time.
  auto reply = client.get("suggest", &error, 60000);
  if (!reply) {
    // A daemon that answers with a reason (no nginx configuration yet) is not "unreachable".
    if (error.rfind("the daemon says: ", 0) == 0) return input_error(error);
    return input_error(daemon_unreachable_line(o.api_socket) + " (" + error + ")");
  }
  try {
    return print_report(advise::suggest_report_from_json(*reply), o.json, reply->dump(2) + "\n");
  } catch (const std::exception& e) {
    return input_error("the daemon's reply is not a suggest report: " + std::string(e.what()));
  }
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
  cmd->add_option("--api-socket", o.api_socket,
                  "without --trace: the running daemon's local API socket to ask")
      ->capture_default_str();
  return cmd;
}

// A trace may hold several masters' configurations (several nginx on one host):
// advise on the one whose servers and locations the measurements are about.
const std::string* config_for(const TraceHeader& header, const advise::Measurements& m,
                              const nginx::BuildInfo& build) {
  std::vector<std::unique_ptr<NginxConfigView>> views;
  std::vector<const NginxConfigView*> candidates;
  std::vector<const std::string*> texts;
  for (const auto& [master, text] : header.snapshot.configs) {
    try {
      // Only to match labels: no name resolved.
      views.push_back(std::make_unique<NginxConfigView>(
          std::make_shared<nginx::Config>(nginx::load_from_dump(text, build)), std::string(),
          nginx::resolve_literal));
      candidates.push_back(views.back().get());
    } catch (const std::exception&) {
      // Not loadable here: it cannot be the one to advise on, unless it is the only one.
      candidates.push_back(nullptr);
    }
    texts.push_back(&text);
  }
  size_t best = advise::most_measured(m, candidates);
  bool explains =
      best < candidates.size() && candidates[best] &&
      std::any_of(m.locations().begin(), m.locations().end(), [&](const auto& kv) {
        return candidates[best]->location_of(Place{"", kv.first.first, kv.first.second});
      });
  // Nothing measured is about a config that loads: if one does not load here, that is
  // the one the failures may be about, and its error is the answer (no silent "none").
  if (!explains)
    for (size_t i = 0; i < candidates.size(); ++i)
      if (!candidates[i]) return texts[i];
  return best < texts.size() ? texts[best] : nullptr;
}

int run_suggest_command(const SuggestOptions& o) {
  if (o.trace.empty()) return run_live(o);
  advise::Measurements measurements;
  // The detectors' failures (temp_file_error, worker_connections_exhausted) are
  // measurements too.
  Detectors detectors(&measurements, /*live=*/false);
  ReplayResult replay = replay_with_detectors(o.trace, measurements, detectors);
  if (!replay.error.empty()) return input_error(replay.error);
  measurements.add_detectors(detectors);

  nginx::BuildInfo build = nginx::build_info_of(o.nginx);  // read, not run
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
  return print_report(report, o.json, o.json ? advise::format_suggest_json(report) : "");
}

}  // namespace ngxwatch
