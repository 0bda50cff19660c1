// Loads the configuration a running nginx master uses, as a ConfigView: the files read
// through /proc/PID/root with the master's own -c/-p (master_files.h), the compiled-in
// paths from its binary's bytes (nginx/binary_info.h). Nothing is executed. Blocking
// file I/O: called from the process tracker's thread, never the event loop.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "correlate/nginx_config_view.h"
#include "proc/nginx_scan.h"
#include "source/trace_file.h"

namespace ngxwatch {

struct MasterConfig {
  std::shared_ptr<const NginxConfigView> view;  // null when it could not be loaded
  std::string dump;                             // the files in nginx -T form (trace snapshot)
  std::string error;                            // one line, when view is null
  std::string binary, prefix;  // how the master runs: `suggest` runs nginx -t the same way
};

MasterConfig load_master_config(const NginxProcess& master, const std::string& proc_root = "/proc");

// Which config applies to which nginx process. Rebuilt by the tracker thread on every
// master start and reload; the event loop takes a snapshot (a shared_ptr) per batch.
struct ConfigSet : ConfigLookup {
  std::map<uint32_t, std::shared_ptr<const NginxConfigView>> by_pid;
  std::shared_ptr<const NginxConfigView> only;  // when exactly one master runs
  TraceSnapshot snapshot;  // every master's nginx -T and the process map, for record
  const ConfigView* for_pid(uint32_t pid) const override;
  std::vector<const ConfigView*> views() const override;
  size_t masters = 0;
  // Each loaded view's master binary and -p prefix.
  std::map<const NginxConfigView*, std::pair<std::string, std::string>> commands;
};

class ConfigRegistry {
 public:
  // Reloads the configs of masters that are new or whose workers changed (a reload
  // replaces all workers), keeps the others; returns true if anything changed.
  bool update(const NginxSnapshot& snap);
  std::shared_ptr<const ConfigSet> current() const;
  uint64_t version() const;

 private:
  struct Known {
    std::string workers_key;  // sorted worker pids: changes on reload
    MasterConfig config;
  };
  mutable std::mutex mu_;
  std::map<int, Known> masters_;
  std::shared_ptr<const ConfigSet> current_ = std::make_shared<ConfigSet>();
  uint64_t version_ = 0;
};

}  // namespace ngxwatch
