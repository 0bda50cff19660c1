#include "classify/classifier.h"

#include <cmath>
#include <cstdio>

namespace ngxwatch {

namespace {

constexpr uint64_t kNs = 1000000000ull;
// A connection idle this long before a request counts as reused after idle (the
// keepalive race); below it, two requests ran back to back.
constexpr uint64_t kKeepaliveIdleNs = 1000000ull;  // 1 ms
// A response whose length is unknown counts as complete after this much quiet.
constexpr uint64_t kQuietNs = kNs;

double secs(uint64_t ns) { return static_cast<double>(ns) / kNs; }

std::string fmt(const char* f, double a, double b = 0, double c = 0) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), f, a, b, c);
  return buf;
}

// nginx gave up at its timeout: the quiet period matches it within 10% (or 250 ms).
bool near_timeout(uint64_t elapsed_ns, double timeout_s) {
  double e = secs(elapsed_ns);
  return timeout_s > 0 && std::fabs(e - timeout_s) <= std::max(0.25, timeout_s * 0.1);
}

bool peer_ended(EndKind k) { return k == EndKind::kResetReceived || k == EndKind::kFinFromPeer; }

const char* peer_error(EndKind k) { return k == EndKind::kResetReceived ? "reset" : "closed"; }

uint64_t since(uint64_t now, uint64_t then) { return then && now > then ? now - then : 0; }

// The connection never got past connect(): refused, or abandoned (timed out).
Verdict connect_verdict(const ClassifyInput& in) {
  const ngxw_conn_stats& s = in.stats;
  Verdict v;
  v.phase = "connect";
  if (in.end == EndKind::kResetReceived) {
    v.error = "refused";
    v.cause = "connect_refused";
    v.evidence = "RST in SYN_SENT: nothing listens on the upstream address";
  } else if (in.end == EndKind::kFinFromNginx || in.end == EndKind::kClosed ||
             in.end == EndKind::kResetSent) {
    v.error = "timeout";
    v.cause = "connect_timeout";
    v.evidence = fmt("nginx abandoned the connect after %.2f s (proxy_connect_timeout %.0f s)",
                     secs(since(in.now_ns, s.opened_ns)), in.timeouts.connect_s);
  }
  return v;
}

// The upstream ended a connection with a request in flight (RST or FIN).
Verdict peer_ended_verdict(const ClassifyInput& in, bool fully_sent) {
  const ngxw_conn_stats& s = in.stats;
  Verdict v;
  const char* sent_phase = fully_sent ? "read_header" : "send_request";
  bool reused_after_idle =
      s.requests >= 2 && s.req_bytes_recv == 0 && (s.idle_ns >= kKeepaliveIdleNs || s.peer_fin);
  v.error = peer_error(in.end);
  if (reused_after_idle) {
    v.phase = sent_phase;
    v.cause = "keepalive_race";
    v.keepalive_idle_s = secs(s.idle_ns);
    v.evidence =
        fmt("request %.0f on a reused connection after %.3f s idle; the upstream "
            "closed it (%.0f response bytes)",
            s.requests, secs(s.idle_ns), static_cast<double>(s.req_bytes_recv));
    return v;
  }
  if (!fully_sent) {
    v.phase = "send_request";
    v.cause = in.end == EndKind::kResetReceived ? "upstream_reset_sending_body"
                                                : "upstream_closed_before_header";
    v.evidence = fmt("%.0f of %.0f request bytes sent when the upstream ",
                     static_cast<double>(s.req_bytes_sent),
                     static_cast<double>(in.request_total.value_or(0)));
    v.evidence += in.end == EndKind::kResetReceived ? "reset" : "closed";
  } else if (s.req_bytes_recv == 0) {
    v.phase = "read_header";
    v.cause = in.end == EndKind::kResetReceived ? "upstream_reset_before_header"
                                                : "upstream_closed_before_header";
    v.evidence = fmt("request fully sent (%.0f bytes), no response byte after %.3f s",
                     static_cast<double>(s.req_bytes_sent), secs(since(in.now_ns, s.last_send_ns)));
  } else {
    v.phase = "read_body";
    v.cause = "upstream_reset_mid_response";
    v.evidence =
        fmt("%.0f response bytes received of %.0f expected", static_cast<double>(s.req_bytes_recv),
            static_cast<double>(in.response_total.value_or(0)));
  }
  return v;
}

// nginx ended a connection with a request in flight: a timeout when the quiet period
// matches the configured one, else the client went away.
Verdict nginx_ended_verdict(const ClassifyInput& in, bool fully_sent) {
  const ngxw_conn_stats& s = in.stats;
  Verdict v;
  if (!fully_sent) {
    v.phase = "send_request";
    if (near_timeout(since(in.now_ns, s.last_send_ns), in.timeouts.send_s)) {
      v.error = "timeout";
      v.cause = "send_timeout";
      v.evidence =
          fmt("the upstream stopped reading the request for %.2f s (proxy_send_timeout "
              "%.0f s)",
              secs(since(in.now_ns, s.last_send_ns)), in.timeouts.send_s);
    }
  } else {
    uint64_t quiet = since(in.now_ns, std::max(s.last_send_ns, s.last_recv_ns));
    v.phase = s.req_bytes_recv == 0 ? "read_header" : "read_body";
    if (near_timeout(quiet, in.timeouts.read_s)) {
      v.error = "timeout";
      v.cause = "read_timeout";
      v.evidence = fmt("no upstream byte for %.2f s (proxy_read_timeout %.0f s)", secs(quiet),
                       in.timeouts.read_s);
    }
  }
  if (v.cause.empty())
    v.evidence = "nginx closed the upstream connection mid-request (client gone or aborted)";
  return v;
}

Verdict upstream_verdict(const ClassifyInput& in) {
  const ngxw_conn_stats& s = in.stats;
  if (in.tcp_state == 2 /* SYN_SENT */ || in.old_state == 2) return connect_verdict(in);
  Verdict v;
  bool sent_any = s.requests > 0;
  bool fully_sent = !in.request_total || s.req_bytes_sent >= *in.request_total;
  bool response_complete =
      in.response_total ? s.req_bytes_recv >= *in.response_total
                        : (s.req_bytes_recv > 0 && since(in.now_ns, s.last_recv_ns) >= kQuietNs &&
                           s.last_recv_ns >= s.last_send_ns);
  if (!sent_any || response_complete) {
    v.phase = "idle";  // a pooled connection between requests: harmless
    v.evidence = fmt("no request in flight; idle %.2f s",
                     secs(since(in.now_ns, std::max(s.last_send_ns, s.last_recv_ns))));
    return v;
  }
  return peer_ended(in.end) ? peer_ended_verdict(in, fully_sent)
                            : nginx_ended_verdict(in, fully_sent);
}

Verdict client_verdict(const ClassifyInput& in) {
  const ngxw_conn_stats& s = in.stats;
  Verdict v;
  bool request_complete = !in.request_total || s.req_bytes_recv >= *in.request_total;
  bool response_complete = in.response_total && s.req_bytes_sent >= *in.response_total;
  if (s.requests == 0 || response_complete) {
    v.phase = "idle";
    v.evidence = "between requests on a client connection";
    return v;
  }
  v.phase = request_complete ? "send_response" : "client_body";
  if (peer_ended(in.end) && !in.response_started) {
    v.error = peer_error(in.end);
    v.cause = "client_abort";
    v.evidence = request_complete ? fmt("the client gave up after %.2f s waiting for the response",
                                        secs(since(in.now_ns, s.req_start_ns)))
                                  : fmt("the client left after sending %.0f of %.0f request bytes",
                                        static_cast<double>(s.req_bytes_recv),
                                        static_cast<double>(in.request_total.value_or(0)));
  }
  return v;
}

}  // namespace

Verdict classify(const ClassifyInput& in) {
  return in.side == NGXW_SIDE_CLIENT ? client_verdict(in) : upstream_verdict(in);
}

}  // namespace ngxwatch
