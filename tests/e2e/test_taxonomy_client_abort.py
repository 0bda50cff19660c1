#!/usr/bin/env python3
"""Taxonomy row "client aborted upload": a client announces a 5 MiB body, sends
256 KiB of it and resets the connection (SO_LINGER 0). With request buffering on
(the default) nginx is still reading the body from the client and has not contacted
the upstream; it logs `recv() failed (104...)` at info and the request with status 400
in the access log (a failed body read is a 400 in nginx; 499 is only for a client gone
while nginx waits for the upstream).

Expect cause client_abort in phase client_body, an RST from the client side in phase
client_body, client_visible_errors_total{status="400"} matching nginx's access log, no
upstream error (the upstream never saw the request) and nothing for the healthy
location."""

import harness as h
import taxonomy_common as t

N = 4
SERVER = "client-abort.taxonomy.test"


def body(args, nginx_bin):
    backend = h.Upstream(h.healthy, name="healthy")
    port = h.free_port()
    http = f"""
    client_max_body_size 50m;
    upstream backend_app {{ server {backend.address}; }}
""" + t.server_block(port, SERVER, """
        location /upload/ { proxy_pass http://backend_app; }
        location /ok/     { proxy_pass http://backend_app; }""")
    scope = t.Scope(SERVER, ["backend_app"], [backend.address])

    def drive(daemon, nginx):
        for _ in range(N):
            t.raw_abort_upload(port, "/upload/file", SERVER, 5 * 1024 * 1024, 256 * 1024)
        good_st = [h.post(port, "/ok/file", 256 * 1024, headers={"Host": SERVER}) for _ in range(N)]
        h.check(good_st == [200] * N, f"healthy location should give 200s: {good_st}")
        backend.expect_handled(N, "aborted uploads must not reach the backend")
        s = t.settle(daemon, lambda s: t.failures_seen(daemon, scope, "client_abort") >= N,
                     5, f"{N} client_abort failures")
        where = {"upstream": "backend_app", "server": SERVER, "location": "/upload/"}
        t.expect_exact(s, "ngxwatch_failures_total", scope, [({**where, "cause": "client_abort"}, N)])
        t.expect_exact(s, "ngxwatch_upstream_errors_total", scope, [])
        t.expect_exact(s, "ngxwatch_resets_total", scope,
                       [({**where, "side": "client", "origin": "peer", "peer": "",
                          "phase": "client_body"}, N)])
        t.expect_exact(s, "ngxwatch_client_visible_errors_total", scope,
                       [({"server": SERVER, "location": "/upload/", "status": "400"}, N)])
        t.expect_exact(s, "ngxwatch_upstream_retries_absorbed_total", scope, [])
        t.expect_location_clean(s, scope, "/ok/")
        # An RST while nginx reads the body: `recv() failed (104...)` at info level (a FIN
        # would read "client prematurely closed connection").
        h.check("recv() failed (104: Connection reset by peer)" in nginx.error_log(),
                "nginx should log the client's reset (info)")
        with open(nginx.dir + "/logs/access.log") as f:
            logged = [line.split('"')[2].split()[0] for line in f if "/upload/" in line]
        h.check(logged == ["400"] * N, f"nginx's access log statuses for the aborts: {logged}")

    t.run(args, nginx_bin, http, drive, closers=[backend])


if __name__ == "__main__":
    h.run_test(body)
