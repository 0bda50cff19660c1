#include "correlate/pending_events.h"

#include <unordered_set>

namespace ngxwatch {

Attribution PendingEvents::state_of(uint32_t pid) const {
  if (pid == 0) return Attribution::kReady;  // no process to wait for
  if (!source_) return Attribution::kWait;
  return source_->attribution(pid);
}

void PendingEvents::forget(const Held& h) {
  if (--held_per_pid_[h.pid] == 0) held_per_pid_.erase(h.pid);
  if (h.sock && --held_per_sock_[h.sock] == 0) held_per_sock_.erase(h.sock);
}

void PendingEvents::release_front() {
  Held h = std::move(held_.front());
  held_.pop_front();
  forget(h);
  stats_.waiting = held_.size();
  deliver_(h.event);
}

void PendingEvents::release_ready() {
  if (held_.empty()) return;
  std::deque<Held> keep;
  std::unordered_map<uint32_t, Attribution> states;  // one lookup per process
  // Processes and sockets with an earlier event still held: theirs wait behind it.
  std::unordered_set<uint32_t> pids_behind;
  std::unordered_set<uint64_t> socks_behind;
  for (auto& h : held_) {
    auto [it, fresh] = states.try_emplace(h.pid, Attribution::kWait);
    if (fresh) it->second = state_of(h.pid);
    if (it->second == Attribution::kWait || pids_behind.count(h.pid) ||
        (h.sock && socks_behind.count(h.sock))) {
      pids_behind.insert(h.pid);
      if (h.sock) socks_behind.insert(h.sock);
      keep.push_back(std::move(h));
      continue;
    }
    if (it->second == Attribution::kUnreadable) ++stats_.unreadable;
    forget(h);
    deliver_(h.event);
  }
  held_ = std::move(keep);
  stats_.waiting = held_.size();
}

void PendingEvents::set_source(const AttributionSource* source) {
  source_ = source;
  release_ready();
}

void PendingEvents::on_event(const Event& e, uint64_t now_ns) {
  uint32_t pid = event_pid(e);
  uint64_t sock = event_sock(e);
  // A process or socket with events waiting keeps its order: the new one waits behind.
  bool behind = held_per_pid_.count(pid) || (sock && held_per_sock_.count(sock));
  Attribution state = behind ? Attribution::kWait : state_of(pid);
  if (state != Attribution::kWait) {
    if (state == Attribution::kUnreadable) ++stats_.unreadable;
    deliver_(e);
    return;
  }
  if (held_.size() >= o_.max_events) {
    ++stats_.overflowed;
    release_front();
  }
  held_.push_back({e, pid, sock, now_ns});
  ++held_per_pid_[pid];
  if (sock) ++held_per_sock_[sock];
  ++stats_.held;
  stats_.waiting = held_.size();
}

void PendingEvents::tick(uint64_t now_ns) {
  bool released = false;
  while (!held_.empty() && held_.front().since + o_.max_wait_ns <= now_ns) {
    // A process event of a short-lived nginx (`nginx -t` run by a deploy, by us) is
    // no request: nothing lost its labels.
    if (!std::holds_alternative<ngxw_proc_event>(held_.front().event)) ++stats_.timed_out;
    release_front();
    released = true;
  }
  // What waited only behind those (a known process's event on the same socket) goes now.
  if (released) release_ready();
}

}  // namespace ngxwatch
