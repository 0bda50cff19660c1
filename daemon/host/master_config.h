// Loads the configuration a running nginx master uses, as a ConfigView: the files read
// through /proc/PID/root with the master's own -c/-p (master_files.h), the compiled-in
// paths from its binary's bytes (nginx/binary_info.h). Nothing is executed. Blocking
// file I/O: called from the process tracker's thread, never the event loop.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "attribute/nginx_config_view.h"
#include "correlate/pending_events.h"
#include "host/nginx_scan.h"
#include "source/trace_file.h"

namespace ngxwatch {

struct MasterConfig {
  std::shared_ptr<const NginxConfigView> view;  // null when it could not be loaded
  std::string dump;                             // the files in nginx -T form (trace snapshot)
  std::string error;                            // one line, when view is null
  std::string binary, prefix;  // how the master runs: `suggest` runs nginx -t the same way
  // "BINARY -c CONF -p PREFIX": what makes a new master the continuation of an old one,
  // and what keeps two instances' measurements apart (Place::nginx).
  std::string identity;
  // When the read began, on the kernel's event clock (CLOCK_MONOTONIC): a worker forked
  // before it runs with this configuration or an older one, never a newer one.
  uint64_t read_ns = 0;
};

MasterConfig load_master_config(const NginxProcess& master, const std::string& proc_root = "/proc");

// Which config applies to which nginx process. Rebuilt by the tracker thread on every
// master start and reload; the event loop takes a snapshot (a shared_ptr) per batch.
// The last configuration of a master that exited: kept so that `suggest` still judges
// the measurements against it while nginx is down (or restarting).
struct RetiredConfig {
  std::shared_ptr<const NginxConfigView> view;
  std::string identity;  // "BINARY -c CONF -p PREFIX": a new master like it continues it
  uint32_t pid = 0;
  std::chrono::steady_clock::time_point exited;
};

struct ConfigSet : ConfigLookup, AttributionSource {
  std::map<uint32_t, std::shared_ptr<const NginxConfigView>> by_pid;
  // Processes of masters whose config could not be read, with the reason (one line).
  std::map<uint32_t, std::string> unreadable;
  // Processes gone from /proc since an earlier set, with the view they ran with: their
  // last events (a reset, the close) may still be on their way. Kept kExitedKeep.
  struct Exited {
    std::shared_ptr<const NginxConfigView> view;
    std::chrono::steady_clock::time_point since;
  };
  static constexpr std::chrono::seconds kExitedKeep{10};
  std::map<uint32_t, Exited> exited;
  std::map<uint32_t, uint64_t> read_ns;         // per live master: MasterConfig::read_ns
  std::shared_ptr<const NginxConfigView> only;  // when exactly one master runs
  TraceSnapshot snapshot;  // every master's nginx -T and the process map, for record
  const ConfigView* for_pid(uint32_t pid) const override;
  std::vector<const ConfigView*> views() const override;
  Attribution attribution(uint32_t pid) const override;
  size_t masters = 0;
  // Each loaded view's master binary and -p prefix.
  std::map<const NginxConfigView*, std::pair<std::string, std::string>> commands;
  // Each live view's master: "nginx master PID (BINARY -c CONF -p PREFIX)".
  std::map<const NginxConfigView*, std::string> origins;
  std::vector<RetiredConfig> retired;  // newest first, within the retention
  // "nginx master 12 (BINARY -c CONF -p PREFIX)" per live master, or the last exited
  // one's "... exited N s ago"; "" when none is known.
  std::string describe() const;
};

class ConfigRegistry {
 public:
  // Reloads the configs of masters that are new or whose workers changed (a reload
  // replaces all workers), keeps the others; returns true if anything changed.
  bool update(const NginxSnapshot& snap);
  std::shared_ptr<const ConfigSet> current() const;
  uint64_t version() const;
  // How long an exited master's config is kept (default 1 h).
  void set_retention(std::chrono::seconds keep) { retention_ = keep; }
  // Processes of `previous` gone from `set`'s snapshot keep their view a while
  // (ConfigSet::exited); build_set's step, public for its tests.
  static void keep_exited(const ConfigSet& previous, ConfigSet& set);

 private:
  // The set for `snap` from masters_; workers already attributed keep their view (a
  // reload's old workers finish their requests with the old config).
  std::shared_ptr<ConfigSet> build_set(const NginxSnapshot& snap) const;

  struct Known {
    std::string workers_key;  // sorted worker pids: changes on reload
    MasterConfig config;
    std::string cmdline;  // the master's: its identity (-c, -p) when it exits
  };
  // Masters of `before` missing from masters_ are kept as retired configs; expired
  // ones and those a live master with the same identity continues are dropped.
  bool retire(std::map<int, Known>& before);
  mutable std::mutex mu_;
  std::map<int, Known> masters_;
  std::vector<RetiredConfig> retired_;
  std::chrono::seconds retention_{3600};
  std::shared_ptr<const ConfigSet> current_ = std::make_shared<ConfigSet>();
  uint64_t version_ = 0;
};

}  // namespace ngxwatch
