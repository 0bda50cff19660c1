#include "correlate/trace_replay.h"

#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <utility>

#include "correlate/correlator.h"
#include "attribute/nginx_config_view.h"
#include "nginx/nginx_config.h"
#include "source/event.h"

namespace ngxwatch {

namespace {

std::unique_ptr<NginxConfigView> view_of(const std::string& dump,
                                         const nginx::HostResolver& resolve) {
  if (dump.empty()) return nullptr;
  try {
    return std::make_unique<NginxConfigView>(
        std::make_shared<nginx::Config>(nginx::load_from_dump(dump)), std::string(), resolve);
  } catch (const std::exception& e) {
    spdlog::warn("the trace's nginx configuration does not load ({}); attributing by peer only",
                 e.what());
    return nullptr;
  }
}

// The configs of a recorded trace, by process: the recorded process map, extended
// with the workers that forked during the recording (PROC events).
class TraceConfigs : public ConfigLookup {
 public:
  TraceConfigs(const TraceSnapshot& snap, const nginx::HostResolver& resolve)
      : masters_(snap.masters) {
    for (const auto& [master, text] : snap.configs) views_[master] = view_of(text, resolve);
    if (views_.size() == 1) only_ = views_.begin()->second.get();
  }
  void learn(const ngxw_proc_event& p) {
    if (p.action != NGXW_PROC_FORK) return;
    auto parent = masters_.find(p.parent_tgid);
    masters_[p.hdr.tgid] = parent != masters_.end() ? parent->second : p.parent_tgid;
  }
  const ConfigView* for_pid(uint32_t pid) const override {
    auto m = masters_.find(pid);
    if (m != masters_.end()) {
      auto v = views_.find(m->second);
      if (v != views_.end()) return v->second.get();
    }
    return only_;
  }
  // Every master's view: the temp-dir detector learns its paths from them.
  std::vector<const ConfigView*> views() const override {
    std::vector<const ConfigView*> out;
    for (const auto& [master, view] : views_)
      if (view) out.push_back(view.get());
    return out;
  }

 private:
  std::map<uint32_t, uint32_t> masters_;
  std::map<uint32_t, std::unique_ptr<NginxConfigView>> views_;
  const ConfigView* only_ = nullptr;
};

}  // namespace

nginx::HostResolver bounded_resolver(nginx::HostResolver dns, size_t max_names) {
  struct State {
    std::map<std::string, std::vector<std::string>> resolved;
    bool warned = false;
  };
  auto st = std::make_shared<State>();
  return [st, dns = std::move(dns), max_names](const std::string& host) {
    std::vector<std::string> literal = nginx::resolve_literal(host);
    if (!literal.empty()) return literal;
    if (auto it = st->resolved.find(host); it != st->resolved.end()) return it->second;
    if (st->resolved.size() < max_names) return st->resolved[host] = dns(host);
    if (!std::exchange(st->warned, true))
      spdlog::warn(
          "the trace's configurations name more than {} hosts; {} and later ones are "
          "not resolved (their peers are attributed by path only)",
          max_names, host);
    return std::vector<std::string>{};
  };
}

ReplayResult replay_from(const TraceReader& read, ObservationSink& sink, const ReplayHooks& hooks) {
  ReplayResult result;
  std::unique_ptr<TraceConfigs> configs;
  std::unique_ptr<Correlator> correlator;
  result.error = read(result.header, [&](std::span<const uint8_t> r) {
    if (!correlator) {  // the header (with the config snapshot) is read by now
      configs = std::make_unique<TraceConfigs>(
          result.header.snapshot,
          hooks.resolve ? hooks.resolve : bounded_resolver(nginx::resolve_host));
      correlator = std::make_unique<Correlator>(configs.get(), &sink);
      if (hooks.on_start) hooks.on_start(*configs, *correlator);
    }
    DecodeResult d = decode_event(r);
    if (!d.ok) {
      ++result.bad_records;
      return;
    }
    if (const auto* p = std::get_if<ngxw_proc_event>(&d.event)) configs->learn(*p);
    correlator->on_event(d.event);
    if (hooks.on_event) hooks.on_event(d.event);
  });
  result.events = correlator ? correlator->stats().events : 0;
  return result;
}

ReplayResult replay_trace(const std::string& path, ObservationSink& sink,
                          const ReplayHooks& hooks) {
  return replay_from(
      [&path](TraceHeader& h, const RecordFn& fn) { return read_trace(path, h, fn); }, sink, hooks);
}

}  // namespace ngxwatch
