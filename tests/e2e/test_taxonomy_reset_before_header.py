#!/usr/bin/env python3
"""Taxonomy row "upstream reset before response header": the upstream reads the whole
request (64 KiB POST), then resets the connection without answering.

Expect, for the misbehaving location only: cause upstream_reset_before_header, phase
read_header, error reset, an RST from the peer in phase read_header, and a 502 the
client saw. The healthy location of the same server shows nothing."""

import harness as h
import taxonomy_common as t

N = 5
SERVER = "reset-header.taxonomy.test"
BODY = 64 * 1024


def body(args, nginx_bin):
    bad = h.Upstream(h.resets_after_request, name="resetting")
    good = h.Upstream(h.healthy, name="healthy")
    port = h.free_port()
    http = f"""
    client_max_body_size 10m;
    upstream backend_reset {{ server {bad.address}; }}
    upstream backend_ok {{ server {good.address}; }}
""" + t.server_block(port, SERVER, """
        location /api/ { proxy_pass http://backend_reset; }
        location /ok/  { proxy_pass http://backend_ok; }""")
    scope = t.Scope(SERVER, ["backend_reset", "backend_ok"], [bad.address, good.address])

    def drive(daemon, nginx):
        hdr = {"Host": SERVER}
        bad_st = [h.post(port, "/api/upload", BODY, headers=hdr) for _ in range(N)]
        good_st = [h.post(port, "/ok/upload", BODY, headers=hdr) for _ in range(N)]
        h.check(bad_st == [502] * N, f"resetting upstream should give 502s: {bad_st}")
        h.check(good_st == [200] * N, f"healthy upstream should give 200s: {good_st}")
        s = t.settle(daemon, lambda s: t.failures_seen(daemon, scope, "upstream_reset_before_header") >= N,
                     5, f"{N} upstream_reset_before_header failures")
        where = {"upstream": "backend_reset", "server": SERVER, "location": "/api/"}
        t.expect_exact(s, "ngxwatch_failures_total", scope,
                       [({**where, "cause": "upstream_reset_before_header"}, N)])
        t.expect_exact(s, "ngxwatch_upstream_errors_total", scope,
                       [({**where, "peer": bad.address, "phase": "read_header", "error": "reset"}, N)])
        t.expect_exact(s, "ngxwatch_resets_total", scope,
                       [({**where, "side": "upstream", "origin": "peer", "peer": bad.address,
                          "phase": "read_header"}, N)])
        t.expect_exact(s, "ngxwatch_client_visible_errors_total", scope,
                       [({"server": SERVER, "location": "/api/", "status": "502"}, N)])
        t.expect_exact(s, "ngxwatch_upstream_retries_absorbed_total", scope, [])
        t.expect_location_clean(s, scope, "/ok/")

    t.run(args, nginx_bin, http, drive, closers=[bad, good])


if __name__ == "__main__":
    h.run_test(body)
