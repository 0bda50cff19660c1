// The configuration each nginx process runs with, as the event loop sees it: the
// tracker's ConfigSet (from /proc scans and config reads) completed by the kernel's fork
// events. A worker a reload forked and retired between two scans is in no set; its
// fork event names its master, and once that master's configuration has been read
// after the fork, that is the worker's (nginx reads the file before it forks).
// Without this such a worker's events wait out PendingEvents' timeout. Limit: a read
// after two quick reloads gives the earlier reload's workers the file as the read found
// it (the later config if it changed in between), as it would a worker a scan saw.
// A pid reused within ConfigSet::kExitedKeep takes the dead process's view until the
// next scan (pids are reused only after the whole pid space, 4M by default).
#pragma once

#include <memory>
#include <vector>

#include "correlate/fork_parents.h"
#include "correlate/pending_events.h"
#include "host/master_config.h"

namespace ngxwatch {

class WorkerConfigs : public ConfigLookup, public AttributionSource {
 public:
  // Every event, before PendingEvents sees it: fork events teach the parents.
  void learn(const Event& e) { forks_.on_event(e); }
  void set(std::shared_ptr<const ConfigSet> set) { set_ = std::move(set); }
  const std::shared_ptr<const ConfigSet>& set() const { return set_; }

  const ConfigView* for_pid(uint32_t pid) const override;
  std::vector<const ConfigView*> views() const override;
  Attribution attribution(uint32_t pid) const override;

 private:
  // The master pid's config applies to, when only its fork event says so: 0 if none
  // (not forked while we watched, or its master's config not read since the fork).
  uint32_t forked_from(uint32_t pid) const;
  // The known process whose config applies to pid: its master by its fork, or, for
  // nginx's first process (it daemonized: opened the listeners, forked the master,
  // exited), that master. 0: none.
  uint32_t stand_in(uint32_t pid) const;

  ForkParents forks_;
  std::shared_ptr<const ConfigSet> set_ = std::make_shared<ConfigSet>();
};

}  // namespace ngxwatch
