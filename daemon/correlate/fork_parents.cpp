#include "correlate/fork_parents.h"

namespace ngxwatch {

void ForkParents::on_event(const Event& e) {
  const auto* p = std::get_if<ngxw_proc_event>(&e);
  if (!p) return;
  uint32_t child = p->hdr.tgid;
  if (p->action == NGXW_PROC_EXEC) {
    by_child_.erase(child);
    return;
  }
  if (p->action != NGXW_PROC_FORK || !child) return;
  by_child_[child] = {p->parent_tgid, p->hdr.ts_ns};
  order_.emplace_back(child, p->hdr.ts_ns);
  while (order_.size() > max_) {
    auto [pid, ts] = order_.front();
    order_.pop_front();
    // Only that fork's entry: a reused pid forked since keeps its own.
    auto it = by_child_.find(pid);
    if (it != by_child_.end() && it->second.ts_ns == ts) by_child_.erase(it);
  }
}

std::optional<ForkParents::Fork> ForkParents::of(uint32_t pid) const {
  auto it = by_child_.find(pid);
  if (it == by_child_.end()) return std::nullopt;
  return it->second;
}

}  // namespace ngxwatch
