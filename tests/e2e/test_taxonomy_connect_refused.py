#!/usr/bin/env python3
"""Taxonomy row "connect refused": the upstream group's only server is an address
where nothing listens, so every connect() meets an RST in SYN_SENT and nginx answers
502 (a single-server group is never marked down, so every request tries).

Expect cause connect_refused, phase connect, error refused, an RST from the peer in
phase connect, client 502, and nothing for the healthy location."""

import harness as h
import taxonomy_common as t

N = 5
SERVER = "refused.taxonomy.test"


def body(args, nginx_bin):
    good = h.Upstream(h.healthy, name="healthy")
    dead = f"127.0.0.1:{h.free_port()}"  # bound and released: nothing listens there
    port = h.free_port()
    http = f"""
    upstream backend_down {{ server {dead}; }}
    upstream backend_ok {{ server {good.address}; }}
""" + t.server_block(port, SERVER, """
        location = /down { proxy_pass http://backend_down; }
        location /ok/    { proxy_pass http://backend_ok; }""")
    scope = t.Scope(SERVER, ["backend_down", "backend_ok"], [dead, good.address])

    def drive(daemon, nginx):
        hdr = {"Host": SERVER}
        bad_st = [h.get(port, "/down", headers=hdr) for _ in range(N)]
        good_st = [h.get(port, "/ok/x", headers=hdr) for _ in range(N)]
        h.check(bad_st == [502] * N, f"refused upstream should give 502s: {bad_st}")
        h.check(good_st == [200] * N, f"healthy upstream should give 200s: {good_st}")
        s = t.settle(daemon, lambda s: t.failures_seen(daemon, scope, "connect_refused") >= N,
                     5, f"{N} connect_refused failures")
        where = {"upstream": "backend_down", "server": SERVER, "location": "= /down"}
        t.expect_exact(s, "ngxwatch_failures_total", scope, [({**where, "cause": "connect_refused"}, N)])
        t.expect_exact(s, "ngxwatch_upstream_errors_total", scope,
                       [({**where, "peer": dead, "phase": "connect", "error": "refused"}, N)])
        t.expect_exact(s, "ngxwatch_resets_total", scope,
                       [({**where, "side": "upstream", "origin": "peer", "peer": dead,
                          "phase": "connect"}, N)])
        t.expect_exact(s, "ngxwatch_client_visible_errors_total", scope,
                       [({"server": SERVER, "location": "= /down", "status": "502"}, N)])
        t.expect_exact(s, "ngxwatch_upstream_retries_absorbed_total", scope, [])
        t.expect_location_clean(s, scope, "/ok/")
        h.check("(111: Connection refused) while connecting to upstream" in nginx.error_log(),
                "nginx should log connect() failed (111)")

    t.run(args, nginx_bin, http, drive, closers=[good])


if __name__ == "__main__":
    h.run_test(body)
