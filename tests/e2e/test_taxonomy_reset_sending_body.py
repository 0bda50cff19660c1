#!/usr/bin/env python3
"""Taxonomy row "upstream reset while nginx sends the body": an 8 MiB POST streamed
through `proxy_request_buffering off`; the upstream reads the head and 64 KiB of the
body, then resets.

nginx logs this as `writev() failed (104)` or as `recv() failed (104) while reading
response header`, whichever event it handles first; the socket saw request bytes still
unsent, so the verdict is upstream_reset_sending_body in phase send_request either way.
The client gets 502. The healthy location of the same server shows nothing."""

import harness as h
import taxonomy_common as t

N = 4
SERVER = "reset-body.taxonomy.test"
BODY = 8 * 1024 * 1024


def body(args, nginx_bin):
    bad = h.Upstream(h.resets_mid_body(64 * 1024), name="resetting")
    good = h.Upstream(h.healthy, name="healthy")
    port = h.free_port()
    http = f"""
    client_max_body_size 50m;
    upstream backend_reset {{ server {bad.address}; }}
    upstream backend_ok {{ server {good.address}; }}
""" + t.server_block(port, SERVER, """
        proxy_request_buffering off;
        location /upload/ { proxy_pass http://backend_reset; }
        location /ok/     { proxy_pass http://backend_ok; }""")
    scope = t.Scope(SERVER, ["backend_reset", "backend_ok"], [bad.address, good.address])

    def drive(daemon, nginx):
        hdr = {"Host": SERVER}
        bad_st = [h.post(port, "/upload/big", BODY, headers=hdr) for _ in range(N)]
        good_st = [h.post(port, "/ok/big", BODY, headers=hdr) for _ in range(N)]
        h.check(bad_st == [502] * N, f"resetting upstream should give 502s: {bad_st}")
        h.check(good_st == [200] * N, f"healthy upstream should give 200s: {good_st}")
        s = t.settle(daemon, lambda s: t.failures_seen(daemon, scope, "upstream_reset_sending_body") >= N,
                     5, f"{N} upstream_reset_sending_body failures")
        where = {"upstream": "backend_reset", "server": SERVER, "location": "/upload/"}
        t.expect_exact(s, "ngxwatch_failures_total", scope,
                       [({**where, "cause": "upstream_reset_sending_body"}, N)])
        t.expect_exact(s, "ngxwatch_upstream_errors_total", scope,
                       [({**where, "peer": bad.address, "phase": "send_request", "error": "reset"}, N)])
        t.expect_exact(s, "ngxwatch_resets_total", scope,
                       [({**where, "side": "upstream", "origin": "peer", "peer": bad.address,
                          "phase": "send_request"}, N)])
        t.expect_exact(s, "ngxwatch_client_visible_errors_total", scope,
                       [({"server": SERVER, "location": "/upload/", "status": "502"}, N)])
        t.expect_exact(s, "ngxwatch_upstream_retries_absorbed_total", scope, [])
        t.expect_location_clean(s, scope, "/ok/")
        # The request-bytes histogram saw resets well short of the 8 MiB body.
        rb = [(l, v) for n, l, v in s if n == "ngxwatch_reset_request_bytes_bucket" and l.get("le") == "4194304"]
        h.check(rb and rb[0][1] >= N, f"resets should have happened before 4 MiB were sent: {rb}")

    t.run(args, nginx_bin, http, drive, closers=[bad, good])


if __name__ == "__main__":
    h.run_test(body)
