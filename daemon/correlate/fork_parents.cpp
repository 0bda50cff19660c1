#include "correlate/fork_parents.h"

#include <algorithm>

namespace ngxwatch {

void ForkParents::on_event(const Event& e) {
  const auto* p = std::get_if<ngxw_proc_event>(&e);
  if (!p) return;
  uint32_t child = p->hdr.tgid;
  if (p->action == NGXW_PROC_EXEC) {
    // Another program now: neither its parent's config nor its children before this.
    if (auto it = by_child_.find(child); it != by_child_.end()) {
      forget_first(it->second.parent, child);
      by_child_.erase(it);
    }
    first_child_.erase(child);
    return;
  }
  if (p->action != NGXW_PROC_FORK || !child) return;
  auto [it, fresh] = by_child_.try_emplace(child);
  if (!fresh) forget_first(it->second.parent, child);  // a reused pid: its old life goes
  it->second = {p->parent_tgid, p->hdr.ts_ns};
  first_child_.erase(child);  // a new process has forked nothing yet
  if (first_child_.try_emplace(p->parent_tgid, child).second) parents_.push_back(p->parent_tgid);
  order_.emplace_back(child, p->hdr.ts_ns);
  while (order_.size() > max_) {
    auto [pid, ts] = order_.front();
    order_.pop_front();
    // Only that fork's entry: a reused pid forked since keeps its own.
    auto old = by_child_.find(pid);
    if (old != by_child_.end() && old->second.ts_ns == ts) by_child_.erase(old);
  }
  // Parents are few (nginx's first processes and masters fork; workers do not): kept
  // apart from the forks, so that a long-lived master's stand-in outlives them.
  while (parents_.size() > std::max<size_t>(max_ / 16, 64)) {
    first_child_.erase(parents_.front());
    parents_.pop_front();
  }
}

void ForkParents::forget_first(uint32_t parent, uint32_t child) {
  auto first = first_child_.find(parent);
  if (first != first_child_.end() && first->second == child) first_child_.erase(first);
}

std::optional<ForkParents::Fork> ForkParents::of(uint32_t pid) const {
  auto it = by_child_.find(pid);
  if (it == by_child_.end()) return std::nullopt;
  return it->second;
}

uint32_t ForkParents::first_child(uint32_t pid) const {
  auto it = first_child_.find(pid);
  return it == first_child_.end() ? 0 : it->second;
}

}  // namespace ngxwatch
