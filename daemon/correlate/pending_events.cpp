#include "correlate/pending_events.h"

#include <unordered_set>

namespace ngxwatch {

namespace {

// An accepted connection's open event names the listening socket's owner, not the
// worker that will serve it, and the correlator needs no config for it.
bool needs_config(const Event& e) {
  const auto* c = std::get_if<ngxw_conn_event>(&e);
  return !(c && c->hdr.type == NGXW_EV_CONN_OPEN && c->side == NGXW_SIDE_CLIENT);
}

}  // namespace

Attribution PendingEvents::state_of(uint32_t pid) const {
  if (pid == 0) return Attribution::kReady;  // no process to wait for
  if (!source_) return Attribution::kWait;
  return source_->attribution(pid);
}

void PendingEvents::forget(const Held& h) {
  if (h.for_config && --held_per_pid_[h.pid] == 0) held_per_pid_.erase(h.pid);
  if (h.sock && --held_per_sock_[h.sock] == 0) held_per_sock_.erase(h.sock);
}

void PendingEvents::release_front() {
  Held h = std::move(held_.front());
  held_.pop_front();
  forget(h);
  stats_.waiting = held_.size();
  rescan_ = true;
  deliver_(h.event);
}

void PendingEvents::release_ready() {
  rescan_ = false;
  if (held_.empty()) return;
  std::deque<Held> keep;
  std::unordered_map<uint32_t, Attribution> states;  // one lookup per process
  // Processes that wait for their config and sockets with an earlier event still held:
  // their later events wait behind.
  std::unordered_set<uint32_t> pids_behind;
  std::unordered_set<uint64_t> socks_behind;
  for (auto& h : held_) {
    Attribution state = Attribution::kReady;
    if (h.for_config) {
      auto [it, fresh] = states.try_emplace(h.pid, Attribution::kWait);
      if (fresh) it->second = state_of(h.pid);
      state = pids_behind.count(h.pid) ? Attribution::kWait : it->second;
    }
    if (state == Attribution::kWait || (h.sock && socks_behind.count(h.sock))) {
      if (h.for_config) pids_behind.insert(h.pid);
      if (h.sock) socks_behind.insert(h.sock);
      keep.push_back(std::move(h));
      continue;
    }
    if (state == Attribution::kUnreadable) ++stats_.unreadable;
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
  bool for_config = needs_config(e);
  Attribution state = Attribution::kReady;
  if (for_config) state = held_per_pid_.count(pid) ? Attribution::kWait : state_of(pid);
  bool behind_socket = sock && held_per_sock_.count(sock);
  if (state != Attribution::kWait && !behind_socket) {
    if (state == Attribution::kUnreadable) ++stats_.unreadable;
    deliver_(e);
    return;
  }
  if (held_.size() >= o_.max_events) {
    ++stats_.overflowed;
    release_front();
  }
  // Held only behind its socket: its process's other events need not wait for it.
  for_config = for_config && state == Attribution::kWait;
  held_.push_back({e, pid, sock, now_ns, for_config});
  if (for_config) ++held_per_pid_[pid];
  if (sock) ++held_per_sock_[sock];
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
  if (rescan_ && now_ns >= next_scan_ns_) {
    next_scan_ns_ = now_ns + kRescanNs;
    release_ready();
  }
}

}  // namespace ngxwatch
