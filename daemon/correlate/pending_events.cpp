#include "correlate/pending_events.h"

namespace ngxwatch {

Attribution PendingEvents::state_of(uint32_t pid) const {
  if (pid == 0) return Attribution::kReady;  // no process to wait for
  if (!source_) return Attribution::kWait;
  return source_->attribution(pid);
}

void PendingEvents::release_front() {
  Held h = std::move(held_.front());
  held_.pop_front();
  if (--held_per_pid_[h.pid] == 0) held_per_pid_.erase(h.pid);
  stats_.waiting = held_.size();
  deliver_(h.event);
}

void PendingEvents::set_source(const AttributionSource* source) {
  source_ = source;
  if (held_.empty()) return;
  std::deque<Held> keep;
  std::unordered_map<uint32_t, Attribution> states;  // one lookup per process
  for (auto& h : held_) {
    auto [it, fresh] = states.try_emplace(h.pid, Attribution::kWait);
    if (fresh) it->second = state_of(h.pid);
    if (it->second == Attribution::kWait) {
      keep.push_back(std::move(h));
      continue;
    }
    if (it->second == Attribution::kUnreadable) ++stats_.unreadable;
    if (--held_per_pid_[h.pid] == 0) held_per_pid_.erase(h.pid);
    deliver_(h.event);
  }
  held_ = std::move(keep);
  stats_.waiting = held_.size();
}

void PendingEvents::on_event(const Event& e, uint64_t now_ns) {
  uint32_t pid = event_pid(e);
  // A process with events waiting keeps its order: the new one waits behind them.
  Attribution state = held_per_pid_.count(pid) ? Attribution::kWait : state_of(pid);
  if (state != Attribution::kWait) {
    if (state == Attribution::kUnreadable) ++stats_.unreadable;
    deliver_(e);
    return;
  }
  if (held_.size() >= o_.max_events) {
    ++stats_.overflowed;
    release_front();
  }
  held_.push_back({e, pid, now_ns});
  ++held_per_pid_[pid];
  ++stats_.held;
  stats_.waiting = held_.size();
}

void PendingEvents::tick(uint64_t now_ns) {
  while (!held_.empty() && held_.front().since + o_.max_wait_ns <= now_ns) {
    // A process event of a short-lived nginx (`nginx -t` run by a deploy, by us) is
    // no request: nothing lost its labels.
    if (!std::holds_alternative<ngxw_proc_event>(held_.front().event)) ++stats_.timed_out;
    release_front();
  }
}

}  // namespace ngxwatch
