// Building the published ConfigSet (which config applies to which nginx process) from
// the registry's masters; kept apart from how a master's config is read.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "host/master_config.h"

namespace ngxwatch {

bool ConfigRegistry::retire(std::map<int, Known>& before) {
  auto now = std::chrono::steady_clock::now();
  bool changed = false;
  std::vector<std::string> live;
  for (const auto& [pid, known] : masters_) live.push_back(known.config.identity);
  for (auto& [pid, known] : before) {
    if (masters_.count(pid) || !known.config.view) continue;
    std::string id = known.config.identity;
    spdlog::info("nginx master {} exited; its configuration is kept for {} s ({})", pid,
                 retention_.count(), id);
    retired_.insert(retired_.begin(),
                    RetiredConfig{known.config.view, id, static_cast<uint32_t>(pid), now});
    changed = true;
  }
  size_t n = retired_.size();
  std::erase_if(retired_, [&](const RetiredConfig& r) {
    // A new master with the same binary, -c and -p continues it.
    return now - r.exited > retention_ ||
           std::find(live.begin(), live.end(), r.identity) != live.end();
  });
  return changed || n != retired_.size();
}

Attribution ConfigSet::attribution(uint32_t pid) const {
  if (by_pid.count(pid) || exited.count(pid)) return Attribution::kReady;
  if (unreadable.count(pid)) return Attribution::kUnreadable;
  return Attribution::kWait;
}

void ConfigRegistry::keep_exited(const ConfigSet& previous, ConfigSet& set) {
  auto now = std::chrono::steady_clock::now();
  auto keep = [&](uint32_t pid, const std::shared_ptr<const NginxConfigView>& view,
                  std::chrono::steady_clock::time_point since) {
    if (set.snapshot.masters.count(pid) || !view || now - since > ConfigSet::kExitedKeep) return;
    set.exited[pid] = {view, since};
    if (auto c = previous.commands.find(view.get()); c != previous.commands.end())
      set.commands.insert(*c);
  };
  for (const auto& [pid, view] : previous.by_pid) keep(pid, view, now);
  for (const auto& [pid, gone] : previous.exited) keep(pid, gone.view, gone.since);
}

std::shared_ptr<ConfigSet> ConfigRegistry::build_set(const NginxSnapshot& snap) const {
  std::shared_ptr<const ConfigSet> previous = current();
  auto set = std::make_shared<ConfigSet>();
  for (const auto& p : snap.processes) {
    auto pid = static_cast<uint32_t>(p.pid);
    auto master = static_cast<uint32_t>(p.master);
    set->snapshot.masters[pid] = master;
    auto it = masters_.find(p.master);
    if (it == masters_.end()) continue;
    const MasterConfig& config = it->second.config;
    auto before = previous->by_pid.find(pid);
    auto was = previous->snapshot.masters.find(pid);
    if (pid != master && before != previous->by_pid.end() &&
        was != previous->snapshot.masters.end() && was->second == master) {
      // A worker of the same master attributed before: a reload does not change the
      // config it runs with (nginx forks new workers for the new one).
      set->by_pid[pid] = before->second;
      set->commands[before->second.get()] = {config.binary, config.prefix};
    } else if (config.view) {
      set->by_pid[pid] = config.view;
    } else {
      set->unreadable[pid] = config.error.empty() ? "configuration not loaded" : config.error;
    }
  }
  keep_exited(*previous, *set);
  for (const auto& [master, known] : masters_) {
    set->read_ns[static_cast<uint32_t>(master)] = known.config.read_ns;
    if (!known.config.dump.empty())
      set->snapshot.configs[static_cast<uint32_t>(master)] = known.config.dump;
    if (known.config.view)
      set->commands[known.config.view.get()] = {known.config.binary, known.config.prefix};
  }
  for (const auto& [master, known] : masters_)
    if (known.config.view)
      set->origins[known.config.view.get()] =
          "nginx master " + std::to_string(master) + " (" + known.config.identity + ")";
  set->retired = retired_;
  set->masters = masters_.size();
  if (masters_.size() == 1) set->only = masters_.begin()->second.config.view;
  return set;
}

std::string ConfigSet::describe() const {
  std::string out;
  for (const auto& [view, origin] : origins) out += (out.empty() ? "" : "; ") + origin;
  if (!out.empty() || retired.empty()) return out;
  const RetiredConfig& last = retired.front();
  auto ago = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                              last.exited);
  return "nginx master " + std::to_string(last.pid) + " (" + last.identity + "), exited " +
         std::to_string(ago.count()) + " s ago";
}

}  // namespace ngxwatch
