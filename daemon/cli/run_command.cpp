#include "cli/run_command.h"

#include <prometheus/exposer.h>
#include <spdlog/spdlog.h>

#include <memory>

#include "host/live_suggest.h"
#include "api/api_server.h"
#include "api/live_stats.h"
#include "cli/kernel_session.h"
#include "cli/service_notify.h"
#include "correlate/correlator.h"
#include "correlate/pending_events.h"
#include "host/worker_configs.h"
#include "correlate/tee_sink.h"
#include "detect/detectors.h"
#include "export/attribution_metrics.h"
#include "export/bpf_self_metrics.h"
#include "export/detect_metrics.h"
#include "export/failure_log.h"
#include "export/listen_check.h"
#include "export/metrics.h"
#include "explain/failure_ring.h"
#include "source/event.h"
#include "source/reset_reasons.h"

namespace ngxwatch {

namespace {

int fail(const std::string& line) {
  spdlog::error("{}", line);
  return 1;
}

// What the kernel side offers, for /metrics and top's header.
void show_kernel(KernelSession& session, Metrics& metrics, LiveStats& live) {
  metrics.attach_kernel(session.maps());
  metrics.set_probes(session.probes());
  metrics.set_features(session.bpf().features(), session.bpf().capture_backend());
  live.set_kernel(kernel_summary(session.bpf()));
  live.set_dropped_source(
      [maps = session.maps()] { return maps.counter(NGXW_CTR_EVENTS_DROPPED); });
}

// The local API: top's snapshots, and suggest's report (slow: nginx -t per change).
// `failures`: the recent failures `explain` joins error-log lines to.
void start_api(ApiServer& api, const std::string& socket, LiveStats& live,
               std::shared_ptr<advise::LiveSuggest> suggestions,
               std::function<nlohmann::json()> failures) {
  if (auto e = api.start(socket,
                         {{"snapshot", [&live] { return live.snapshot(); }},
                          {"suggest", [suggestions] { return suggestions->reply(); }},
                          {"failures", std::move(failures)}},
                         {}, /*slow=*/{"suggest"});
      !e.empty())
    spdlog::error("local API disabled (ngxwatch top will not connect): {}", e);
  else
    spdlog::info("local API on {}", socket);
}

// systemd's status line once everything is up.
std::string ready_status(KernelSession& session, const std::string& listen) {
  size_t attached = 0;
  for (const auto& p : session.probes()) attached += p.attached;
  return std::to_string(attached) + "/" + std::to_string(session.probes().size()) +
         " probes attached; " + std::to_string(session.configs().current()->masters) +
         " nginx masters; metrics on " + listen;
}

// A SIGHUP: the options re-read; what can change at run time does, the rest waits for a
// restart (and says so).
void reload(ServiceNotifier& systemd, RunOptions& current, Metrics& metrics,
            KernelSession& session) {
  systemd.reloading();
  std::string why;
  std::optional<RunOptions> read = current.reload ? current.reload(&why) : std::nullopt;
  if (!read) {
    spdlog::error("reload: {}; keeping the running configuration", why);
    systemd.ready("reloaded");
    return;
  }
  RunOptions& fresh = *read;
  metrics.set_max_locations(fresh.max_locations);
  session.set_scan_interval(std::chrono::milliseconds(fresh.session.scan_interval_ms));
  if (fresh.listen != current.listen || fresh.session.ringbuf_mib != current.session.ringbuf_mib ||
      fresh.session.sample_per_sec != current.session.sample_per_sec ||
      fresh.session.conn_table_entries != current.session.conn_table_entries ||
      fresh.api_socket != current.api_socket)
    spdlog::warn(
        "reload: listen, ringbuf-mib, sample-rate, conn-table-size and api-socket take "
        "effect after a restart");
  fresh.listen = current.listen;
  fresh.session.ringbuf_mib = current.session.ringbuf_mib;
  fresh.session.sample_per_sec = current.session.sample_per_sec;
  fresh.session.conn_table_entries = current.session.conn_table_entries;
  fresh.api_socket = current.api_socket;
  fresh.reload = current.reload;
  current = std::move(fresh);
  spdlog::info("reload: configuration re-read");
  systemd.ready("reloaded");
}

}  // namespace

int run_daemon(const RunOptions& opts) {
  // Handlers first: a SIGINT/SIGTERM while probes load must still detach cleanly.
  const std::atomic<bool>& stop = install_stop_signals();
  if (auto e = check_listen_address(opts.listen); !e.empty()) return fail(e);

  auto metrics = std::make_shared<Metrics>(opts.max_locations);
  FailureLog failure_log;
  // The recent failures `ngxwatch explain` joins nginx's error log with (local API).
  FailureRing recent_failures;
  int64_t started_wall_ns = wall_now_ns();
  TeeSink detected({metrics.get(), &failure_log, &recent_failures});  // the detectors' failures
  Detectors detectors(&detected);
  auto detect_metrics = std::make_shared<DetectMetrics>();
  LiveStats live;                           // what `ngxwatch top` shows, over the local API
  advise::SharedMeasurements measurements;  // what `ngxwatch suggest` advises on
  TeeSink sinks({metrics.get(), &failure_log, &detectors, &live, &measurements, &recent_failures});
  Correlator correlator(nullptr, &sinks, ResetReasons::load());
  detectors.set_place_of([&](uint64_t sock) { return correlator.place_of(sock); });
  // Events of a process whose master's config is not read yet wait for it.
  uint64_t config_version = ~0ull;
  WorkerConfigs configs;  // in force; its set replaced only between batches
  PendingEvents pending([&](const Event& e) {
    correlator.on_event(e);
    detectors.on_event(e);
  });
  auto attribution_metrics = std::make_shared<AttributionMetrics>(&pending.stats());
  std::unique_ptr<KernelSession> session;  // declared before use in the record callback
  uint64_t bad_records = 0;

  std::string error;
  session = KernelSession::open(
      opts.session,
      [&](std::span<const uint8_t> bytes) {
        DecodeResult r = decode_event(bytes);
        if (!r.ok) {
          if (bad_records++ < 5) spdlog::warn("dropping a malformed kernel record: {}", r.error);
          return;
        }
        configs.learn(r.event);
        pending.on_event(r.event, monotonic_ns());
      },
      [&](const NginxSnapshot& s) { metrics->set_workers(s.active_workers()); }, &error);
  if (!session) return fail(error);
  show_kernel(*session, *metrics, live);
  // Made off the event loop (nginx -t per change): on the API's worker thread for
  // {"get":"suggest"} (never the thread serving top's snapshots), on its refresher
  // thread for top's rows; cached for 5 s.
  auto suggestions = std::make_shared<advise::LiveSuggest>(
      [&measurements, &session, verify = advise::VerifyOptions{}] {
        return advise::suggest_live(measurements.copy(), *session->configs().current(), verify);
      },
      LiveStats::steady_ms);
  // Its refresher thread reads `measurements` and `session`: joined before they go,
  // whichever way this function returns (`live` keeps the object itself alive longer).
  std::unique_ptr<advise::LiveSuggest, void (*)(advise::LiveSuggest*)> stop_suggestions(
      suggestions.get(), [](advise::LiveSuggest* s) { s->stop(); });
  live.add_extras(suggestions);
  live.set_config_source([&session] { return session->configs().current()->describe(); });
  ApiServer api;  // its own thread: a client can never stall this loop
  start_api(api, opts.api_socket, live, suggestions, [&recent_failures, started_wall_ns] {
    return recent_failures.to_json(started_wall_ns, wall_now_ns());
  });

  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(opts.listen);
  } catch (const std::exception& ex) {
    return fail("cannot listen on " + opts.listen + ": " + ex.what());
  }
  exposer->RegisterCollectable(metrics);
  exposer->RegisterCollectable(detect_metrics);
  exposer->RegisterCollectable(attribution_metrics);
  auto bpf_metrics =
      std::make_shared<BpfSelfMetrics>([&session] { return session->bpf().programs(); });
  exposer->RegisterCollectable(bpf_metrics);

  ServiceNotifier systemd;
  spdlog::info("ngxwatch watching nginx; metrics on http://{}/metrics", opts.listen);
  systemd.ready(ready_status(*session, opts.listen));
  RunOptions current = opts;
  // nginx started or reloaded: attribute from now on with the new configuration, and
  // the events that waited for it first.
  auto use_latest_configs = [&] {
    if (session->configs().version() == config_version) return;
    config_version = session->configs().version();
    configs.set(session->configs().current());
    correlator.set_configs(&configs);
    detectors.set_configs(&configs);
    pending.set_source(&configs);
  };
  // Before the first batch: the configurations loaded at start apply to its events
  // (the first batch may come at once, before any tick).
  use_latest_configs();
  uint64_t findings_copied = 0;
  std::string err = session->run(stop, [&] {
    systemd.tick();
    use_latest_configs();
    uint64_t now = monotonic_ns();  // event time: the kernel's clock
    pending.tick(now);
    detectors.tick(now);
    detect_metrics->update(detectors);
    if (now >= findings_copied + 500'000'000ull) {  // for the API: a copy twice a second
      live.set_findings(detectors.findings());
      findings_copied = now;
    }
    if (take_reload_request()) reload(systemd, current, *metrics, *session);
    use_latest_configs();
  });
  systemd.stopping();
  if (!err.empty()) return fail(err);
  spdlog::info("stopping: detaching probes");
  return 0;
}

}  // namespace ngxwatch
