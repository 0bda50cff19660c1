#include "detect/worker_exhaustion.h"

#include <cstdio>

#include <algorithm>

#include "common/net_format.h"

namespace ngxwatch {

size_t WorkerExhaustionDetector::open(uint32_t tgid) const {
  auto it = open_.find(tgid);
  return it == open_.end() ? 0 : it->second;
}

void WorkerExhaustionDetector::open_conn(uint64_t sock, uint32_t tgid) {
  auto [it, inserted] = conns_.try_emplace(sock, Conn{tgid});
  if (!inserted) {
    if (it->second.tgid == tgid) return;
    --open_[it->second.tgid];  // a worker read it: it moves from the listener's owner
    it->second.tgid = tgid;
  } else if (conns_.size() > o_.max_connections) {
    // A close was lost (ring buffer full): start over rather than drift forever.
    conns_.clear();
    open_.clear();
    return;
  }
  ++open_[tgid];
}

void WorkerExhaustionDetector::close_conn(uint64_t sock) {
  auto it = conns_.find(sock);
  if (it == conns_.end()) return;
  auto n = open_.find(it->second.tgid);
  if (n != open_.end() && n->second > 0 && --n->second == 0) open_.erase(n);
  conns_.erase(it);
}

size_t WorkerExhaustionDetector::slack(int limit) {
  // nginx's own sockets (listeners, the channel to the master) take slots the kernel
  // does not show as connections: a few, more for a large table with many listeners.
  return 4 + static_cast<size_t>(limit) / 64;
}

std::pair<uint32_t, size_t> WorkerExhaustionDetector::fullest(const ConfigView* cfg) const {
  // The refused socket carries the listener's owner, not the worker that refused it:
  // judge by the fullest process running the same configuration (the same master).
  std::pair<uint32_t, size_t> best{0, 0};
  for (const auto& [tgid, n] : open_)
    if (n > best.second && configs_->for_pid(tgid) == cfg) best = {tgid, n};
  return best;
}

void WorkerExhaustionDetector::on_close(const ngxw_conn_event& e) {
  close_conn(e.sock_id);
  if (e.side != NGXW_SIDE_CLIENT || e.origin != NGXW_ORIGIN_NGINX) return;
  // nginx closed an accepted connection before reading a byte, right after the
  // handshake: what ngx_event_accept does when ngx_get_connection() finds no free
  // connection. (A client_header_timeout close is seconds later; a client's own
  // close has origin peer.)
  if (e.stats.bytes_recv != 0 || e.stats.opened_ns == 0 || e.hdr.ts_ns < e.stats.opened_ns) return;
  if (e.hdr.ts_ns - e.stats.opened_ns > static_cast<uint64_t>(o_.refuse_within_s * 1e9)) return;
  // A verdict that pages someone must rest on the measurement it names: only a worker
  // whose table is (nearly) full refuses. Anything else that closes unread (a probe, a
  // listener handing over, an accept the kernel reported late) is not exhaustion.
  const ConfigView* cfg = configs_ ? configs_->for_pid(e.hdr.tgid) : nullptr;
  auto limit = cfg ? cfg->worker_connections() : std::nullopt;
  if (!limit) return;
  auto [worker, open_now] = fullest(cfg);
  if (open_now + slack(*limit) < static_cast<size_t>(*limit)) return;
  ++refused_;
  refusals_.push_back(e.hdr.ts_ns);
  if (!failures_) return;
  Place place;
  // No request was read: only the server the address leads to is known.
  if (auto p = cfg->for_client_request(e.local, "", "/")) place.server = p->server;
  FailureObservation f;
  f.place = place;
  f.phase = "accept";
  f.cause = "worker_connections_exhausted";
  f.evidence = "nginx closed an accepted connection unread after " +
               std::to_string((e.hdr.ts_ns - e.stats.opened_ns) / 1000) +
               " us: no free worker connection (worker " + std::to_string(worker) + " held " +
               std::to_string(open_now) + " of worker_connections " + std::to_string(*limit) + ")";
  f.ts_ns = e.hdr.ts_ns;
  f.pid = e.hdr.tgid;
  f.client = format_endpoint(e.remote);
  f.ended_by = "nginx: closed the accepted connection unread";
  f.connection_age_s = static_cast<double>(e.hdr.ts_ns - e.stats.opened_ns) / 1e9;
  failures_->on_failure(f);
}

void WorkerExhaustionDetector::on_event(const Event& e) {
  if (const auto* c = std::get_if<ngxw_conn_event>(&e)) {
    now_ = std::max<uint64_t>(now_, c->hdr.ts_ns);
    if (c->hdr.type == NGXW_EV_CONN_OPEN)
      open_conn(c->sock_id, c->hdr.tgid);
    else if (c->hdr.type == NGXW_EV_CONN_CLOSE)
      on_close(*c);
  } else if (const auto* d = std::get_if<ngxw_data_event>(&e)) {
    now_ = std::max<uint64_t>(now_, d->hdr.ts_ns);
    // Data carries the worker that moved it; a socket seen first here predates us.
    open_conn(d->sock_id, d->hdr.tgid);
  } else if (const auto* p = std::get_if<ngxw_proc_event>(&e)) {
    if (p->action != NGXW_PROC_EXIT) return;
    for (auto it = conns_.begin(); it != conns_.end();)
      it = it->second.tgid == p->hdr.tgid ? conns_.erase(it) : std::next(it);
    open_.erase(p->hdr.tgid);
  }
}

void WorkerExhaustionDetector::tick(uint64_t now_ns) {
  now_ = std::max(now_, now_ns);
  ratio_ = 0;
  busiest_ = 0;
  for (const auto& [tgid, n] : open_) {
    const ConfigView* cfg = configs_ ? configs_->for_pid(tgid) : nullptr;
    auto limit = cfg ? cfg->worker_connections() : std::nullopt;
    if (!limit) continue;
    double r = static_cast<double>(n) / *limit;
    if (r > ratio_) {
      ratio_ = r;
      busiest_ = tgid;
      busiest_open_ = n;
      busiest_limit_ = *limit;
    }
  }
  if (ratio_ > peak_ratio_) {
    peak_ratio_ = ratio_;
    peak_open_ = busiest_open_;
    peak_limit_ = busiest_limit_;
  }
  uint64_t window = static_cast<uint64_t>(o_.recent_window_s * 1e9);
  while (!refusals_.empty() && refusals_.front() + window < now_) refusals_.pop_front();

  bool refusing = !refusals_.empty();
  if (!refusing && ratio_ < o_.warn_ratio) {
    if (finding_) finding_->active = false;
    return;
  }
  if (!finding_ || !finding_->active) {
    finding_ = Finding{};
    finding_->kind = "worker_exhaustion";
    finding_->onset_ns = refusing ? refusals_.front() : now_;
  }
  finding_->severity = refusing ? "critical" : "warning";
  finding_->subject = "worker " + std::to_string(busiest_);
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "busiest worker %u holds %zu of %d worker_connections (%.0f%%); %zu accepted "
                "connections closed unread in the last %.0f s",
                busiest_, busiest_open_, busiest_limit_, ratio_ * 100, refusals_.size(),
                o_.recent_window_s);
  finding_->evidence = buf;
  finding_->numbers = {{"peak_ratio", peak_ratio_},
                       {"peak_open", static_cast<double>(peak_open_)},
                       {"worker_connections", static_cast<double>(peak_limit_)},
                       {"refused", static_cast<double>(refused_)}};
}

std::vector<Finding> WorkerExhaustionDetector::findings() const {
  if (!finding_) return {};
  return {*finding_};
}

}  // namespace ngxwatch
