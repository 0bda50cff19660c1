#!/usr/bin/env python3
"""Worker exhaustion: one worker with worker_connections 16. Clients open 24
connections that each send half a request head and then wait (not idle-reusable:
nginx cannot reclaim them). The worker's table fills (its listener and its channel to
the master take two slots), and nginx accepts the rest and closes them at once
("worker_connections are not enough", nothing in the access log).

Expect ngxwatch_worker_connections_used_ratio >= 0.8 (open/16), the refused
connections counted as ngxwatch_failures_total{cause="worker_connections_exhausted"}
(as many as nginx logged), and a critical worker_exhaustion finding."""

import contextlib
import socket
import time

import harness as h

LIMIT = 16
CLIENTS = 24


def body(args, nginx_bin):
    port = h.free_port()
    nginx = h.Nginx(nginx_bin, f"""
    server {{
        listen 127.0.0.1:{port};
        server_name exhaust.detect.test;
        location / {{ return 200 "ok\\n"; }}
    }}""", workers=1)
    with open(nginx.conf) as f:
        conf = f.read().replace("worker_connections 1024;", f"worker_connections {LIMIT};")
    with open(nginx.conf, "w") as f:
        f.write(conf)
    daemon = None
    socks = []
    try:
        nginx.start()
        daemon = h.Daemon(args.ngxwatch)
        for _ in range(CLIENTS):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: exhaust.detect.test\r\n")  # head unfinished
            socks.append(s)
            time.sleep(0.02)

        def refused_by_nginx():
            return nginx.error_log().count("worker_connections are not enough")

        h.wait_until(lambda: refused_by_nginx() >= CLIENTS - LIMIT, 5,
                     what="nginx to refuse connections")

        def state():
            s = daemon.scrape()
            return (h.metric_value(s, "ngxwatch_worker_connections_used_ratio") or 0,
                    h.metric_sum(s, "ngxwatch_failures_total", cause="worker_connections_exhausted"),
                    h.metric_value(s, "ngxwatch_findings", kind="worker_exhaustion",
                                   severity="critical"))
        want = refused_by_nginx()
        got = h.wait_until(lambda: (lambda st: st if st[1] >= want and st[0] >= 0.8 else None)(state()),
                           5, what=f"ratio >= 0.8 and {want} exhausted failures")
        ratio, exhausted, finding = got
        h.check(exhausted == want, f"exhausted failures {exhausted}, nginx logged {want}")
        h.check(ratio <= 1.0, f"ratio {ratio} above 1")
        h.check(finding == 1, f"worker_exhaustion critical finding: {finding}")
        print(f"ratio {ratio:.2f}, {int(exhausted)} connections refused (nginx logged {want})")

        for s in socks:
            s.close()
        socks = []
        h.wait_until(lambda: (h.metric_value(daemon.scrape(), "ngxwatch_worker_connections_used_ratio")
                              or 0) < 0.5, 5, what="the ratio to fall after the clients left")
        rc = daemon.stop()
        daemon = None
        h.check(rc == 0, f"ngxwatch exit code {rc}")
    except AssertionError:
        if daemon:
            print(daemon.output()[-4000:])
        print(nginx.error_log()[-2000:])
        raise
    finally:
        for s in socks:
            with contextlib.suppress(OSError):
                s.close()
        if daemon:
            daemon.stop()
        nginx.cleanup()


if __name__ == "__main__":
    h.run_test(body)
