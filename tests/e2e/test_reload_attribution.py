#!/usr/bin/env python3
"""Reload keeps each worker on its own config (issue 9, item 1): `nginx -s reload`
while requests are in flight. The old workers finish theirs with the old config; the
new workers serve the new one from their first request, before any /proc scan.

Config A: /v1/ -> a backend that never answers, proxy_read_timeout 2s.
Config B: /v1/ is gone; /v2/ -> a backend that resets before answering.
N POSTs to /v1/ are in flight when nginx reloads to B; N POSTs to /v2/ follow at once.

Expect N read_timeout at /v1/ (judged with A's 2 s timeout: the old workers' config),
N upstream_reset_before_header at /v2/ (B, the new workers'), and nothing unlabeled."""

import threading
import time

import harness as h
import taxonomy_common as t

N = 4
SERVER = "reload.attribution.test"


def body(args, nginx_bin):
    silent = h.Upstream(h.sleeps_after_request(4), name="silent")
    resetting = h.Upstream(h.resets_after_request, name="resetting")
    port = h.free_port()
    upstreams = f"""
    upstream backend_slow {{ server {silent.address}; }}
    upstream backend_reset {{ server {resetting.address}; }}
"""
    config_a = upstreams + t.server_block(port, SERVER, """
        location /v1/ { proxy_read_timeout 2s; proxy_pass http://backend_slow; }""")
    config_b = upstreams + t.server_block(port, SERVER, """
        location /v2/ { proxy_pass http://backend_reset; }""")
    scope = t.Scope(SERVER, ["backend_slow", "backend_reset"], [silent.address, resetting.address])

    def drive(daemon, nginx):
        hdr = {"Host": SERVER}
        slow = []
        threads = [threading.Thread(target=lambda: slow.append(
            h.post(port, "/v1/pay", 2048, headers=hdr))) for _ in range(N)]
        for th in threads:
            th.start()
        h.wait_until(lambda: len(conns) >= N, 5, what="the /v1/ requests in flight")
        nginx.write_config(config_b)
        r = nginx._run("-s", "reload")
        h.check(r.returncode == 0, f"reload failed: {r.stderr}")
        fast = []
        deadline = time.monotonic() + 5
        while len(fast) < N and time.monotonic() < deadline:
            st = h.post(port, "/v2/hook", 2048, headers=hdr)
            if st == 404:  # an old worker still accepting: not yet reloaded
                time.sleep(0.01)
                continue
            fast.append(st)
        for th in threads:
            th.join()
        h.check(slow == [504] * N, f"/v1/ in flight across the reload: {slow}")
        h.check(fast == [502] * N, f"/v2/ after the reload: {fast}")
        s = t.settle(daemon, lambda s: t.failures_seen(daemon, scope, "read_timeout") >= N
                     and t.failures_seen(daemon, scope, "upstream_reset_before_header") >= N, 8,
                     "both rows")
        t.expect_exact(s, "ngxwatch_failures_total", scope, [
            ({"upstream": "backend_slow", "server": SERVER, "location": "/v1/",
              "cause": "read_timeout"}, N),
            ({"upstream": "backend_reset", "server": SERVER, "location": "/v2/",
              "cause": "upstream_reset_before_header"}, N),
        ])
        bad = [f"  {n}{t.fmt(l)} = {v}" for n, l, v in s if n in t.FAMILIES and v > 0
               and l.get("location") in ("", "(unknown)")]
        h.check(not bad, "series without a location:\n" + "\n".join(bad))

    conns = []
    real = silent.behaviour

    def counting(conn):
        conns.append(conn)
        real(conn)
    silent.behaviour = counting

    t.run(args, nginx_bin, config_a, drive, closers=[silent, resetting], workers=2)


if __name__ == "__main__":
    h.run_test(body)
