#include "host/master_config.h"

#include <set>

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/file_read.h"
#include "common/monotonic_clock.h"
#include "nginx/binary_info.h"
#include "nginx/config_error.h"
#include "host/master_files.h"

namespace ngxwatch {

namespace {

// The master's executable as it names it (a path in its own mount namespace): where
// `suggest` looks for the nginx to run nginx -t with, after checking it on this host.
std::string binary_of(const NginxProcess& p, const std::string& proc_root) {
  auto exe = read_link(proc_root + "/" + std::to_string(p.pid) + "/exe");
  if (!exe) return parse_master_args(p.cmdline).binary;
  const std::string deleted = " (deleted)";  // binary upgraded under a running master
  if (exe->size() > deleted.size() && exe->ends_with(deleted))
    exe->resize(exe->size() - deleted.size());
  return *exe;
}

}  // namespace

MasterConfig load_master_config(const NginxProcess& master, const std::string& proc_root) {
  MasterConfig out;
  out.read_ns = monotonic_ns();
  std::string dir = proc_root + "/" + std::to_string(master.pid);
  MasterArgs args = parse_master_args(master.cmdline);
  out.binary = binary_of(master, proc_root);
  out.prefix = args.prefix;
  out.identity = out.binary + " -c " + (args.conf_path.empty() ? "(default)" : args.conf_path) +
                 " -p " + (args.prefix.empty() ? "(default)" : args.prefix);
  // Nothing found on the host is executed: the build paths come from the binary's
  // bytes, the files are parsed here, through the master's own root.
  nginx::BinaryInfo binary = nginx::cached_binary_info(dir + "/exe");
  if (!binary.is_nginx) {
    out.error = binary.why;
    return out;
  }
  try {
    nginx::ParsedConfig parsed = read_master_files(dir + "/root", args, binary.build);
    out.dump = dump_of(parsed);
    out.view = std::make_shared<NginxConfigView>(
        std::make_shared<nginx::Config>(nginx::Config::build(std::move(parsed), binary.build)),
        out.identity);
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

const ConfigView* ConfigSet::for_pid(uint32_t pid) const {
  auto it = by_pid.find(pid);
  if (it != by_pid.end()) return it->second.get();
  auto gone = exited.find(pid);
  if (gone != exited.end()) return gone->second.view.get();
  return only.get();
}

bool ConfigRegistry::update(const NginxSnapshot& snap) {
  std::map<int, std::vector<int>> workers;
  for (const auto& p : snap.processes)
    if (p.pid != p.master) workers[p.master].push_back(p.pid);
  for (int m : snap.masters()) workers[m];

  bool changed = false;
  std::map<int, Known> next;
  for (auto& [master, pids] : workers) {
    std::sort(pids.begin(), pids.end());
    std::string key;
    for (int p : pids) key += std::to_string(p) + ",";
    auto it = masters_.find(master);
    if (it != masters_.end() && it->second.workers_key == key) {
      next[master] = std::move(it->second);
      continue;
    }
    int wanted = master;  // (clang 14 cannot capture a structured binding)
    auto proc = std::find_if(snap.processes.begin(), snap.processes.end(),
                             [wanted](const NginxProcess& p) { return p.pid == wanted; });
    if (proc == snap.processes.end()) continue;
    // The same process keeps its arguments (a master shutting down may show an empty
    // cmdline), and a re-read that fails keeps what was read before.
    NginxProcess same = *proc;
    if (it != masters_.end()) same.cmdline = it->second.cmdline;
    Known k{key, load_master_config(same), same.cmdline};
    // (with its read time: a worker forked since is not taken to run with it)
    if (!k.config.view && it != masters_.end() && it->second.config.view)
      k.config = it->second.config;
    if (k.config.view)
      spdlog::info("nginx master {}: configuration loaded ({} servers, {} upstreams)", master,
                   k.config.view->config().servers().size(),
                   k.config.view->config().upstreams().size());
    else
      spdlog::warn("nginx master {}: configuration not loaded: {}", master, k.config.error);
    next[master] = std::move(k);
    changed = true;
  }
  changed = changed || next.size() != masters_.size();
  std::swap(masters_, next);
  changed = retire(next) || changed;
  if (!changed) return false;

  auto set = build_set(snap);
  std::lock_guard<std::mutex> lk(mu_);
  current_ = set;
  ++version_;
  return true;
}

std::vector<const ConfigView*> ConfigSet::views() const {
  std::set<const ConfigView*> seen;
  for (const auto& [pid, view] : by_pid) seen.insert(view.get());
  if (only) seen.insert(only.get());
  return {seen.begin(), seen.end()};
}

std::shared_ptr<const ConfigSet> ConfigRegistry::current() const {
  std::lock_guard<std::mutex> lk(mu_);
  return current_;
}

uint64_t ConfigRegistry::version() const {
  std::lock_guard<std::mutex> lk(mu_);
  return version_;
}

}  // namespace ngxwatch
