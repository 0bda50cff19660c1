#!/usr/bin/env python3
"""Kernel sampling: far above --sample-rate, uneventful requests stay in the kernel and
failures are still reported in full.

The daemon runs with --sample-rate 20 (client requests per second per CPU reported
in full). A keepalive client sends M quick GETs, alternating a location proxied over
pooled HTTP/1.1 connections and one proxied with HTTP/1.0 (a new upstream connection
per request, read to EOF: the kernel must judge those closes complete from the kept
response head's Content-Length). Every M/N-th request goes to a location whose
upstream resets after reading the request.

Expect: exactly N upstream_reset_before_header failures with their exact labels and N
502s the client saw, nothing for the healthy locations, most requests unsampled, and
only the failed requests' heads sent from the kernel (a wrong "uneventful" judgement
of the HTTP/1.0 closes would send three heads per request)."""

import http.client

import harness as h
import taxonomy_common as t

M = 1500
N = 5
SERVER = "sampling.flood.test"


def body(args, nginx_bin):
    bad = h.Upstream(h.resets_after_request, name="resetting")
    port, up_port = h.free_port(), h.free_port()
    http_conf = f"""
    upstream backend_reset {{ server {bad.address}; }}
    upstream backend_pool {{ server 127.0.0.1:{up_port}; keepalive 8; }}
    upstream backend_http10 {{ server 127.0.0.1:{up_port}; }}
    server {{
        listen 127.0.0.1:{up_port};
        location / {{ return 200 "ok\\n"; }}
    }}
""" + t.server_block(port, SERVER, """
        location /bad/ { proxy_pass http://backend_reset; }
        location /pool/ {
            proxy_pass http://backend_pool;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location /http10/ { proxy_pass http://backend_http10; }""")
    scope = t.Scope(SERVER, ["backend_reset", "backend_pool", "backend_http10"],
                    [bad.address, f"127.0.0.1:{up_port}"])

    def drive(daemon, nginx):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        ok, bad_st = 0, []
        for i in range(M):
            if i % (M // N) == M // N // 2:
                bad_st.append(h.get(port, "/bad/x?token=secret", headers={"Host": SERVER}))
            conn.request("GET", "/pool/a" if i % 2 else "/http10/b", headers={"Host": SERVER})
            resp = conn.getresponse()
            resp.read()
            ok += resp.status == 200
        conn.close()
        h.check(ok == M, f"healthy locations answered {ok} of {M} with 200")
        h.check(bad_st == [502] * N, f"resetting upstream should give 502s: {bad_st}")
        bad.expect_handled(N, "the resetting upstream")

        s = t.settle(daemon, lambda s: t.failures_seen(daemon, scope, "upstream_reset_before_header") >= N,
                     5, f"{N} upstream_reset_before_header failures")
        where = {"upstream": "backend_reset", "server": SERVER, "location": "/bad/"}
        t.expect_exact(s, "ngxwatch_failures_total", scope,
                       [({**where, "cause": "upstream_reset_before_header"}, N)])
        t.expect_exact(s, "ngxwatch_resets_total", scope,
                       [({**where, "side": "upstream", "origin": "peer", "peer": bad.address,
                          "phase": "read_header"}, N)])
        t.expect_exact(s, "ngxwatch_client_visible_errors_total", scope,
                       [({"server": SERVER, "location": "/bad/", "status": "502"}, N)])
        t.expect_location_clean(s, scope, "/pool/")
        t.expect_location_clean(s, scope, "/http10/")

        seen = h.metric_value(s, "ngxwatch_requests_seen_total")
        unsampled = h.metric_value(s, "ngxwatch_requests_unsampled_total")
        flushed = h.metric_value(s, "ngxwatch_capture_heads_flushed_total")
        # Each proxied request is two client requests to nginx: the client's, and
        # nginx's own to the `return 200` server (the 502s have no second).
        print(f"seen={seen} unsampled={unsampled} flushed={flushed}")
        h.check(seen >= 2 * M + N, f"requests seen in kernel: {seen}, want >= {2 * M + N}")
        h.check(unsampled >= M, f"requests left unsampled: {unsampled} of {seen}")
        # A failed request sends at most its client head and its upstream request head.
        h.check(flushed <= 2 * N, f"{flushed} kept heads sent for {N} failed requests")
        h.check(h.metric_value(s, "ngxwatch_capture_heads_lost_total") == 0, "kept heads lost")
        h.check(h.metric_value(s, "ngxwatch_events_dropped_total") == 0, "events dropped")
        h.check("secret" not in daemon.output(), "a query string value reached the daemon's log")

    t.run(args, nginx_bin, http_conf, drive, closers=[bad], daemon_args=("--sample-rate", "20"))


if __name__ == "__main__":
    h.run_test(body)
