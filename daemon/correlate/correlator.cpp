#include "correlate/correlator.h"

#include <algorithm>

#include "common/net_format.h"
#include "correlate/reset_labels.h"
#include "classify/classifier.h"
#include "classify/duplicate_risk.h"

namespace ngxwatch {

namespace {

constexpr uint64_t kClosedKeepNs = 2ull * 1000000000ull;  // a late RST after CLOSE finds it
constexpr size_t kClosedKeepMax = 16384;

EndKind end_kind(const ngxw_conn_event& e) {
  if (e.hdr.type == NGXW_EV_RESET)
    return e.origin == NGXW_ORIGIN_PEER ? EndKind::kResetReceived : EndKind::kResetSent;
  if (e.tcp_state == 4 /* FIN_WAIT1 */) return EndKind::kFinFromNginx;
  // The peer's FIN is reported when nginx closes its end after it (LAST_ACK, CLOSE),
  // with origin "peer"; traces of older kernels' programs carry CLOSE_WAIT.
  if (e.tcp_state == 8 /* CLOSE_WAIT */ || e.origin == NGXW_ORIGIN_PEER)
    return EndKind::kFinFromPeer;
  return EndKind::kClosed;
}

std::span<const uint8_t> captured(const ngxw_data_event& e) {
  return {e.data, std::min<size_t>(e.len, sizeof(e.data))};
}

}  // namespace

Correlator::Correlator(const ConfigLookup* configs, ObservationSink* sink, ResetReasons reasons,
                       size_t max_connections)
    : configs_(configs),
      sink_(sink),
      reasons_(std::move(reasons)),
      max_connections_(max_connections) {}

void Correlator::on_event(const Event& e) {
  ++stats_.events;
  if (const auto* c = std::get_if<ngxw_conn_event>(&e)) on_conn(*c);
  if (const auto* d = std::get_if<ngxw_data_event>(&e)) on_data(*d);
  evict_if_full();
}

Correlator::Conn& Correlator::conn_for(uint64_t id, const ngxw_event_header& h, uint8_t side,
                                       const ngxw_endpoint& local, const ngxw_endpoint& remote) {
  uint64_t ts = h.ts_ns;
  auto [it, fresh] = conns_.try_emplace(id);
  Conn& c = it->second;
  if (fresh) {
    c.side = side;
    c.local = local;
    c.remote = remote;
    c.opened_ns = ts;
  }
  c.last_ns = ts;
  if (h.tgid) c.tgid = h.tgid;
  return c;
}

void Correlator::on_conn(const ngxw_conn_event& e) {
  if (e.hdr.type == NGXW_EV_CONN_OPEN) {
    conns_.erase(e.sock_id);  // a new life of the same struct sock
    Conn& c = conn_for(e.sock_id, e.hdr, e.side, e.local, e.remote);
    c.opened_ns = e.stats.opened_ns ? e.stats.opened_ns : e.hdr.ts_ns;
    if (e.side == NGXW_SIDE_UPSTREAM && c.tgid) {
      auto last = last_client_.find(c.tgid);
      if (last != last_client_.end()) c.link = last->second;
    }
    return;
  }
  Conn& c = conn_for(e.sock_id, e.hdr, e.side, e.local, e.remote);
  if (e.stats.opened_ns) c.opened_ns = e.stats.opened_ns;
  if (!c.closed) closed_.emplace_back(e.sock_id, e.hdr.ts_ns);
  c.closed = true;
  on_end(e.sock_id, c, e);
}

Place Correlator::place_of_upstream(const Conn& c) const {
  std::string peer = format_endpoint(c.remote);
  const ConfigView* config = config_of(c);
  std::optional<Place> by_uri;
  if (config && c.request.ok) by_uri = config->for_upstream_request(peer, c.request.path);
  auto client = c.link ? conns_.find(c.link) : conns_.end();
  if (client != conns_.end() && client->second.place) {
    const Place& linked = *client->second.place;
    // The link is a guess (the worker's last client read); keep it only when the
    // upstream request agrees with it.
    bool agrees = !config ||
                  (by_uri ? *by_uri == linked : linked.upstream == config->upstream_for_peer(peer));
    if (agrees) return linked;
  }
  if (by_uri) return *by_uri;
  if (!config) return unknown_place();
  Place p;
  p.upstream = config->upstream_for_peer(peer);
  return p;
}

void Correlator::on_data(const ngxw_data_event& e) {
  Conn& c = conn_for(e.sock_id, e.hdr, e.side, e.local, e.remote);
  bool upstream = e.side == NGXW_SIDE_UPSTREAM;
  if (upstream && e.outbound) {
    c.request = parse_request_head(captured(e));
    if (!c.request.ok && e.len > 0) ++stats_.unparsed_captures;
    c.response = {};
    c.response_started = false;
    c.link = e.link_sock_id;
    c.place = place_of_upstream(c);
    c.ended = false;
    if (e.total < 0 && e.request >= 2) {
      // nginx wrote a new request on a pooled connection the upstream had already
      // closed or reset while idle: the keepalive race, seen from nginx's write.
      FailureObservation f{*c.place,
                           format_endpoint(c.remote),
                           "send_request",
                           "reset",
                           "keepalive_race",
                           "write on a reused connection failed; the upstream closed it while "
                           "idle",
                           c.request.redacted_line(),
                           c.request.idempotent(),
                           e.hdr.ts_ns,
                           static_cast<double>(e.idle_ns) / 1e9,
                           false,  // the backend closed it unread: not run twice
                           ""};
      add_detail(f, c, nullptr);
      f.ended_by = "upstream: closed while idle (nginx's write failed)";
      f.request_bytes_sent = 0;
      f.connection_age_s =
          e.hdr.ts_ns > c.opened_ns && c.opened_ns ? (e.hdr.ts_ns - c.opened_ns) / 1e9 : 0;
      sink_->on_failure(f);
      auto client = conns_.find(c.link);
      if (client != conns_.end()) client->second.failures.push_back({f.place, f.id});
      c.ended = true;
    }
  } else if (upstream) {
    c.response = parse_status_line(captured(e));
    c.response_started = true;
  } else if (!e.outbound) {
    if (c.tgid) last_client_[c.tgid] = e.sock_id;
    RequestHead head = parse_request_head(captured(e));
    // The body after an interim "100 Continue" (curl asks for one above 1 MiB): the
    // request stands, its final answer is still to come.
    bool after_continue = c.response.ok && c.response.status == 100;
    if (!head.ok && after_continue) return;  // the body after "100 Continue"
    if (!head.ok && c.refused) return;       // the rest of a body nginx answered early
    if (!head.ok && e.len > 0) ++stats_.unparsed_captures;
    c.request = head;
    c.request_ts = e.hdr.ts_ns;
    c.weight = std::max<uint32_t>(e.weight, 1);
    if (e.link_sock_id) {
      // The kernel sent this (unsampled) head because of that upstream connection:
      // the request it serves, whatever client this worker read last.
      auto up = conns_.find(e.link_sock_id);
      if (up != conns_.end() && up->second.side == NGXW_SIDE_UPSTREAM) up->second.link = e.sock_id;
    }
    c.response = {};
    c.response_started = false;
    c.failures.clear();
    c.ended = false;
    c.refused = false;
    const ConfigView* config = config_of(c);
    if (!config)
      c.place = unknown_place();
    else
      c.place = head.ok ? config->for_client_request(c.local, head.host, head.path) : std::nullopt;
  } else {
    StatusLine st = parse_status_line(captured(e));
    c.response = st;
    c.response_started = st.ok && st.status >= 200;
    if (st.ok) on_client_status(c, st);
  }
}

void Correlator::on_client_status(Conn& c, const StatusLine& st) {
  Place place = c.place.value_or(no_place(c));
  // An error answered to a request with a body (413, 404, 405...): nginx does not
  // wait for the body; what the client still sends is its rest, and its leaving then
  // aborts nothing.
  if (st.status == 413 || (st.status >= 400 && c.request.content_length.value_or(0) > 0))
    c.refused = true;
  if (st.status == 413) {
    place.upstream = "";
    FailureObservation f{
        place,
        "",
        "client_body",
        "",
        "body_too_large",
        "nginx refused a body over client_max_body_size" +
            (c.request.content_length
                 ? " (Content-Length " + std::to_string(*c.request.content_length) + ")"
                 : std::string()),
        c.request.redacted_line(),
        c.request.idempotent(),
        c.last_ns,
        std::nullopt,
        false,
        ""};
    add_detail(f, c, nullptr);
    f.ended_by = "nginx: answered 413 before reading the body";
    sink_->on_failure(f);
    sink_->on_failure_outcome(f.id, 413, false);
    sink_->on_client_visible({place, 413});
  } else if (!c.failures.empty() && st.status >= 500) {
    sink_->on_client_visible({place, st.status});
    for (size_t i = 0; i < c.failures.size(); ++i)  // the last one's answer; earlier: retried
      sink_->on_failure_outcome(c.failures[i].id, st.status, i + 1 < c.failures.size());
  } else if (!c.failures.empty() && st.status >= 200) {
    for (const auto& f : c.failures) {
      sink_->on_retry_absorbed(f.place);
      sink_->on_failure_outcome(f.id, st.status, true);
    }
  }
  if (st.status >= 200) {
    report_request(c, st.status, c.last_ns, 0);
    c.failures.clear();
  }
}

void Correlator::report_request(const Conn& c, int status, uint64_t now, uint64_t body_bytes) {
  if (!c.request.ok) return;
  RequestObservation r;
  r.place = c.place.value_or(no_place(c));
  r.client = format_address(c.remote);
  r.method = c.request.method;
  r.path = c.request.path;
  r.status = status;
  r.idempotent = c.request.idempotent();
  r.content_length = c.request.content_length;
  r.body_bytes_received = body_bytes;
  r.ts_ns = c.request_ts;
  r.duration_s =
      now > c.request_ts && c.request_ts ? static_cast<double>(now - c.request_ts) / 1e9 : 0;
  r.upstream_failures = static_cast<int>(c.failures.size());
  r.weight = c.weight;
  sink_->on_request(r);
}

void Correlator::on_end(uint64_t id, Conn& c, const ngxw_conn_event& e) {
  (void)id;
  // An unsampled request the kernel saw end normally: none of its bytes came here,
  // and the counters alone would read as a cut response.
  if (e.flags & NGXW_CONN_QUIET) return;
  if (e.flags & NGXW_CONN_HEADS_LOST) {
    // What we hold is an older request's: judge from the counters alone.
    c.request = {};
    c.response = {};
    c.response_started = false;
    c.place.reset();
  }
  bool upstream = e.side == NGXW_SIDE_UPSTREAM;
  ClassifyInput in;
  in.side = e.side;
  in.end = end_kind(e);
  in.tcp_state = e.tcp_state;
  in.old_state = e.old_state;
  in.now_ns = e.hdr.ts_ns;
  in.stats = e.stats;
  in.request_total = c.request.ok ? c.request.total_bytes() : std::nullopt;
  in.response_total = c.response.ok ? c.response.total_bytes() : std::nullopt;
  // The kernel saw nginx begin the answer even when the request was not sampled.
  // A client closing after an early answer (413, 404 to a POST) leaves a connection
  // nginx had already answered: the kernel may count the body's rest as a new request.
  in.response_started = c.response_started || (e.flags & NGXW_CONN_ANSWERED) || c.refused;
  if (upstream && !c.place) c.place = place_of_upstream(c);
  Place place = c.place.value_or(no_place(c));
  if (const ConfigView* config = config_of(c)) in.timeouts = config->timeouts(place);
  Verdict v = classify(in);
  std::string peer = upstream ? format_endpoint(e.remote) : "";

  if (e.hdr.type == NGXW_EV_RESET) {
    ResetObservation r;
    ResetLabels l = reset_labels(e);
    r.side = l.side;
    r.origin = l.origin;
    r.peer = l.peer;
    r.place = place;
    r.phase = v.phase;
    r.reason = reasons_.name(e.reason);
    r.connection_age_s = c.opened_ns && e.hdr.ts_ns > c.opened_ns
                             ? static_cast<double>(e.hdr.ts_ns - c.opened_ns) / 1e9
                             : 0;
    r.request_bytes =
        static_cast<double>(upstream ? e.stats.req_bytes_sent : e.stats.req_bytes_recv);
    r.keepalive_idle_s = v.keepalive_idle_s;
    r.request = c.request.redacted_line();
    sink_->on_reset(r);
  }
  if (c.ended || !v.failure()) {
    if (v.failure() || e.hdr.type == NGXW_EV_RESET) c.ended = true;
    return;
  }
  c.ended = true;
  FailureObservation f{place,
                       peer,
                       v.phase,
                       upstream ? v.error : "",  // upstream_errors_total is upstream only
                       v.cause,
                       v.evidence,
                       c.request.redacted_line(),
                       c.request.idempotent(),
                       e.hdr.ts_ns,
                       v.keepalive_idle_s,
                       false,
                       ""};
  if (upstream && c.request.ok) {
    f.method = risky_method(c.request.method);
    f.duplicate_risk = duplicate_risk(c.request.method, v.phase, v.cause);
  }
  add_detail(f, c, &e);
  sink_->on_failure(f);
  if (upstream) {
    auto client = conns_.find(c.link);
    if (client != conns_.end()) client->second.failures.push_back({place, f.id});
  } else if (v.cause == "client_abort") {
    // The status nginx logs for it: a client gone while nginx reads its body fails the
    // body read (400, ngx_http_read_client_request_body); one gone while it waits for
    // the answer is 499 (ngx_http_upstream_check_broken_connection).
    int status = v.phase == "client_body" ? 400 : 499;
    sink_->on_client_visible({place, status});
    report_request(c, status, e.hdr.ts_ns, e.stats.req_bytes_recv);
  }
}

void Correlator::add_detail(FailureObservation& f, const Conn& c, const ngxw_conn_event* e) {
  f.id = next_failure_id_++;
  f.pid = c.tgid;
  const Conn* client = &c;
  if (c.side == NGXW_SIDE_UPSTREAM) {
    auto it = c.link ? conns_.find(c.link) : conns_.end();
    client = it != conns_.end() ? &it->second : nullptr;
  }
  if (client) {
    f.client = format_endpoint(client->remote);
    if (client->request.ok) {
      f.client_method = client->request.method;
      f.client_path = redact_target(client->request.path);
    }
  }
  if (f.client_method.empty() && c.request.ok) {  // the upstream request nginx sent
    f.client_method = c.request.method;
    f.client_path = redact_target(c.request.path);
  }
  if (!e) return;
  const ngxw_conn_stats& s = e->stats;
  bool upstream = e->side == NGXW_SIDE_UPSTREAM;
  f.request_bytes_sent = upstream ? s.req_bytes_sent : s.req_bytes_recv;
  f.response_bytes = upstream ? s.req_bytes_recv : s.req_bytes_sent;
  f.request_total = c.request.ok ? c.request.total_bytes() : std::nullopt;
  uint64_t now = e->hdr.ts_ns;
  if (c.opened_ns && now > c.opened_ns) f.connection_age_s = (now - c.opened_ns) / 1e9;
  uint64_t last = std::max(s.last_send_ns, s.last_recv_ns);
  if (last && now > last) f.quiet_s = (now - last) / 1e9;
  if (s.requests >= 2) f.idle_before_s = s.idle_ns / 1e9;
  const char* who = upstream ? "upstream" : "client";
  switch (end_kind(*e)) {
    case EndKind::kResetReceived:
      f.ended_by = std::string(who) + (e->tcp_state == 2 ? ": RST to nginx's SYN" : ": RST");
      break;
    case EndKind::kResetSent:
      f.ended_by = "nginx: RST";
      break;
    case EndKind::kFinFromPeer:
      f.ended_by = std::string(who) + ": FIN (closed)";
      break;
    case EndKind::kFinFromNginx:
      f.ended_by = "nginx: FIN (closed)";
      break;
    case EndKind::kClosed:
      f.ended_by = "nginx: closed";
      break;
  }
}

void Correlator::evict_if_full() {
  uint64_t now = closed_.empty() ? 0 : closed_.back().second;
  while (!closed_.empty() &&
         (closed_.size() > kClosedKeepMax || closed_.front().second + kClosedKeepNs < now)) {
    auto it = conns_.find(closed_.front().first);
    // Only if that struct sock has not started a new life since.
    if (it != conns_.end() && it->second.closed) {
      conns_.erase(it);
      ++stats_.evicted;
    }
    closed_.pop_front();
  }
  if (conns_.size() <= max_connections_) return;
  // Over the bound (the kernel's table is as large): drop the least recently active
  // tenth at once, so the cost of the scan is shared by many events.
  std::vector<std::pair<uint64_t, uint64_t>> by_age;
  by_age.reserve(conns_.size());
  for (const auto& [id, c] : conns_) by_age.emplace_back(c.last_ns, id);
  size_t drop = conns_.size() - max_connections_ + max_connections_ / 10;
  drop = std::min(drop, by_age.size());
  std::nth_element(by_age.begin(), by_age.begin() + static_cast<long>(drop - 1), by_age.end());
  for (size_t i = 0; i < drop; ++i) conns_.erase(by_age[i].second);
  stats_.evicted += drop;
  std::erase_if(last_client_, [&](const auto& kv) { return !conns_.count(kv.second); });
}

}  // namespace ngxwatch
