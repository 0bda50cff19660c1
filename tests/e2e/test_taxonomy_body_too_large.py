#!/usr/bin/env python3
"""Taxonomy row "body too large": `client_max_body_size 1k` on one location and a
10 KiB POST. nginx answers 413 itself and never contacts the upstream.

Expect cause body_too_large with upstream="" (no upstream was involved), a 413 the
client saw, no upstream error, no reset, and nothing for the healthy location (which
takes the same 10 KiB POST under the default 1m limit)."""

import harness as h
import taxonomy_common as t

N = 5
SERVER = "too-large.taxonomy.test"


def body(args, nginx_bin):
    backend = h.Upstream(h.healthy, name="healthy")
    port = h.free_port()
    http = f"""
    upstream backend_app {{ server {backend.address}; }}
""" + t.server_block(port, SERVER, """
        location /small/ { client_max_body_size 1k; proxy_pass http://backend_app; }
        location /ok/    { proxy_pass http://backend_app; }""")
    scope = t.Scope(SERVER, ["backend_app"], [backend.address])

    def drive(daemon, nginx):
        hdr = {"Host": SERVER}
        bad_st = [h.post(port, "/small/form", 10 * 1024, headers=hdr) for _ in range(N)]
        good_st = [h.post(port, "/ok/form", 10 * 1024, headers=hdr) for _ in range(N)]
        h.check(bad_st == [413] * N, f"10k body over 1k limit should give 413s: {bad_st}")
        h.check(good_st == [200] * N, f"healthy location should give 200s: {good_st}")
        backend.expect_handled(N, "only the healthy requests reach the backend")
        s = t.settle(daemon, lambda s: t.failures_seen(daemon, scope, "body_too_large") >= N,
                     5, f"{N} body_too_large failures")
        t.expect_exact(s, "ngxwatch_failures_total", scope,
                       [({"upstream": "", "server": SERVER, "location": "/small/",
                          "cause": "body_too_large"}, N)])
        t.expect_exact(s, "ngxwatch_upstream_errors_total", scope, [])
        t.expect_exact(s, "ngxwatch_resets_total", scope, [])
        t.expect_exact(s, "ngxwatch_client_visible_errors_total", scope,
                       [({"server": SERVER, "location": "/small/", "status": "413"}, N)])
        t.expect_exact(s, "ngxwatch_upstream_retries_absorbed_total", scope, [])
        t.expect_location_clean(s, scope, "/ok/")
        h.check("client intended to send too large body" in nginx.error_log(),
                "nginx should log the too large body")

    t.run(args, nginx_bin, http, drive, closers=[backend])


if __name__ == "__main__":
    h.run_test(body)
