#!/usr/bin/env python3
"""Taxonomy row "nginx timed out waiting (proxy_read_timeout)": the upstream reads the
request and sleeps 3 s; the location has `proxy_read_timeout 1s`, so nginx closes the
upstream connection at ~1 s and answers 504.

Expect cause read_timeout, phase read_header, error timeout, client 504, no reset at
all (nginx closes with a FIN), and nothing for the healthy location."""

import time

import harness as h
import taxonomy_common as t

N = 3
SERVER = "read-timeout.taxonomy.test"


def body(args, nginx_bin):
    bad = h.Upstream(h.sleeps_after_request(3), name="slow")
    good = h.Upstream(h.healthy, name="healthy")
    port = h.free_port()
    http = f"""
    upstream backend_slow {{ server {bad.address}; }}
    upstream backend_ok {{ server {good.address}; }}
""" + t.server_block(port, SERVER, """
        location /slow/ { proxy_read_timeout 1s; proxy_pass http://backend_slow; }
        location /ok/   { proxy_pass http://backend_ok; }""")
    scope = t.Scope(SERVER, ["backend_slow", "backend_ok"], [bad.address, good.address])

    def drive(daemon, nginx):
        hdr = {"Host": SERVER}
        started = time.monotonic()
        bad_st = [h.get(port, "/slow/report", headers=hdr) for _ in range(N)]
        took = (time.monotonic() - started) / N
        good_st = [h.get(port, "/ok/report", headers=hdr) for _ in range(N)]
        h.check(bad_st == [504] * N, f"slow upstream should give 504s: {bad_st}")
        h.check(0.8 < took < 2.0, f"nginx should give up after ~1 s, took {took:.2f} s")
        h.check(good_st == [200] * N, f"healthy upstream should give 200s: {good_st}")
        s = t.settle(daemon, lambda s: t.failures_seen(daemon, scope, "read_timeout") >= N,
                     5, f"{N} read_timeout failures")
        where = {"upstream": "backend_slow", "server": SERVER, "location": "/slow/"}
        t.expect_exact(s, "ngxwatch_failures_total", scope, [({**where, "cause": "read_timeout"}, N)])
        t.expect_exact(s, "ngxwatch_upstream_errors_total", scope,
                       [({**where, "peer": bad.address, "phase": "read_header", "error": "timeout"}, N)])
        t.expect_exact(s, "ngxwatch_client_visible_errors_total", scope,
                       [({"server": SERVER, "location": "/slow/", "status": "504"}, N)])
        t.expect_exact(s, "ngxwatch_upstream_retries_absorbed_total", scope, [])
        # Let the backend finish sleeping and close its ends: still no reset anywhere.
        time.sleep(3.2)
        s = daemon.scrape()
        t.expect_exact(s, "ngxwatch_resets_total", scope, [])
        t.expect_exact(s, "ngxwatch_failures_total", scope, [({**where, "cause": "read_timeout"}, N)])
        t.expect_location_clean(s, scope, "/ok/")
        h.check("upstream timed out (110" in nginx.error_log(), "nginx should log the timeout")

    t.run(args, nginx_bin, http, drive, closers=[bad, good])


if __name__ == "__main__":
    h.run_test(body)
