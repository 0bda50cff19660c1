#include "correlate/trace_replay.h"

#include <spdlog/spdlog.h>

#include <memory>

#include "correlate/correlator.h"
#include "correlate/nginx_config_view.h"
#include "nginx/nginx_config.h"
#include "source/event.h"

namespace ngxwatch {

namespace {

std::unique_ptr<NginxConfigView> view_of(const std::string& dump) {
  if (dump.empty()) return nullptr;
  try {
    return std::make_unique<NginxConfigView>(
        std::make_shared<nginx::Config>(nginx::load_from_dump(dump)));
  } catch (const std::exception& e) {
    spdlog::warn("the trace's nginx configuration does not load ({}); attributing by peer only",
                 e.what());
    return nullptr;
  }
}

}  // namespace

ReplayResult replay_trace(const std::string& path, ObservationSink& sink) {
  ReplayResult result;
  std::unique_ptr<NginxConfigView> view;
  std::unique_ptr<SingleConfig> configs;
  std::unique_ptr<Correlator> correlator;
  result.error = read_trace(path, result.header, [&](std::span<const uint8_t> r) {
    if (!correlator) {  // the header (with the config snapshot) is read by now
      view = view_of(result.header.config_text);
      configs = std::make_unique<SingleConfig>(view.get());
      correlator = std::make_unique<Correlator>(configs.get(), &sink);
    }
    DecodeResult d = decode_event(r);
    if (!d.ok) {
      ++result.bad_records;
      return;
    }
    correlator->on_event(d.event);
  });
  result.events = correlator ? correlator->stats().events : 0;
  return result;
}

}  // namespace ngxwatch
