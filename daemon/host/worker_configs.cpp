#include "host/worker_configs.h"

namespace ngxwatch {

uint32_t WorkerConfigs::forked_from(uint32_t pid) const {
  auto fork = forks_.of(pid);
  if (!fork) return 0;
  auto read = set_->read_ns.find(fork->parent);
  if (read == set_->read_ns.end() || read->second < fork->ts_ns) return 0;
  return fork->parent;
}

uint32_t WorkerConfigs::stand_in(uint32_t pid) const {
  if (uint32_t master = forked_from(pid)) return master;
  uint32_t child = forks_.first_child(pid);
  return child && set_->attribution(child) != Attribution::kWait ? child : 0;
}

const ConfigView* WorkerConfigs::for_pid(uint32_t pid) const {
  if (set_->attribution(pid) == Attribution::kWait)
    if (uint32_t known = stand_in(pid)) return set_->for_pid(known);
  return set_->for_pid(pid);
}

std::vector<const ConfigView*> WorkerConfigs::views() const { return set_->views(); }

Attribution WorkerConfigs::attribution(uint32_t pid) const {
  Attribution a = set_->attribution(pid);
  if (a != Attribution::kWait) return a;
  if (uint32_t known = stand_in(pid)) return set_->attribution(known);
  // A master known unreadable: its children's events need not wait for a read.
  if (auto fork = forks_.of(pid); fork && set_->unreadable.count(fork->parent))
    return Attribution::kUnreadable;
  return Attribution::kWait;
}

}  // namespace ngxwatch
