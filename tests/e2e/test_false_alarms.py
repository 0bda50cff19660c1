#!/usr/bin/env python3
"""No false alarms (issue 9, item 2), with `worker_connections 1024` and a handful of
connections open:

1. An upstream resets a 32 MiB upload after 1 MiB; nginx answers 502 while the client
   is still sending. That is N upstream_reset_sending_body failures and N 502s — and
   no worker_connections_exhausted: nothing was exhausted (the busiest worker holds a
   few connections of 1024).
2. 5 MB POSTs to a location with client_max_body_size 1m, from curl (Expect:
   100-continue) and from a client that sends the body without waiting: nginx answers
   413 to each. The 413 is the one failure; a client that closes after the answer did
   not abort anything, so no client_abort.

Every negative check stands beside a positive one on the same family, so a daemon that
exports nothing (or exports under other labels) fails."""

import socket
import subprocess
import time

import harness as h
import taxonomy_common as t

N = 4
SERVER = "false-alarms.detect.test"
UPLOAD = 32 << 20
LARGE = 5 * 1000 * 1000


def raw_post(port, path, size):
    """Sends the head and the whole body without waiting for an answer (as a client
    without Expect: 100-continue does); returns the status nginx answered, if read."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall((f"POST {path} HTTP/1.1\r\nHost: {SERVER}\r\nContent-Length: {size}\r\n"
                   f"Content-Type: application/octet-stream\r\n\r\n").encode())
        chunk = b"z" * 65536
        left = size
        try:
            while left > 0:
                n = min(left, len(chunk))
                s.sendall(chunk[:n])
                left -= n
        except OSError:
            pass  # nginx stopped reading after its answer
        try:
            head = s.recv(4096)
        except OSError:
            head = b""
        return int(head.split()[1]) if head.startswith(b"HTTP/1.1 ") else None
    finally:
        s.close()


def curl_post(port, path, size):
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                        "-H", f"Host: {SERVER}", "-H", "Expect: 100-continue",
                        "--data-binary", "@-", f"http://127.0.0.1:{port}{path}"],
                       input=b"q" * size, capture_output=True, timeout=30)
    return int(r.stdout or b"0")


def body(args, nginx_bin):
    bad = h.Upstream(h.resets_mid_body(1 << 20), name="resets-mid-body")
    good = h.Upstream(h.healthy, name="healthy")
    port = h.free_port()
    http = f"""
    upstream backend_upload {{ server {bad.address}; }}
    upstream backend_ok {{ server {good.address}; }}
""" + t.server_block(port, SERVER, """
        location /upload/ { client_max_body_size 64m; proxy_request_buffering off;
                            proxy_pass http://backend_upload; }
        location /small/  { client_max_body_size 1m; proxy_pass http://backend_ok; }
        location /ok/     { proxy_pass http://backend_ok; }""")
    scope = t.Scope(SERVER, ["backend_upload", "backend_ok"], [bad.address, good.address])

    def drive(daemon, nginx):
        hdr = {"Host": SERVER}
        up = [h.post(port, "/upload/file", UPLOAD, headers=hdr) for _ in range(N)]
        h.check(all(st in (502, None) for st in up), f"upload statuses {up}, want 502")
        bad.expect_handled(N, "every upload reached the upstream")
        large = [curl_post(port, "/small/form", LARGE) for _ in range(N // 2)]
        large += [raw_post(port, "/small/form", LARGE) for _ in range(N - N // 2)]
        h.check(large == [413] * N, f"5 MB over 1m: statuses {large}, want 413 each")
        ok = [h.post(port, "/ok/x", 1024, headers=hdr) for _ in range(3)]
        h.check(ok == [200] * 3, f"healthy location: {ok}")

        s = t.settle(daemon, lambda s: t.failures_seen(daemon, scope, "upstream_reset_sending_body")
                     >= N and t.failures_seen(daemon, scope, "body_too_large") >= N, 8,
                     "the upload and 413 failures", quiet=1.5)
        exhausted = h.metric_sum(s, "ngxwatch_failures_total", cause="worker_connections_exhausted")
        aborts = h.metric_sum(s, "ngxwatch_failures_total", cause="client_abort")
        print(f"worker_connections_exhausted {exhausted}, client_abort {aborts} (any server)")
        t.expect_exact(s, "ngxwatch_failures_total", scope, [
            ({"upstream": "backend_upload", "server": SERVER, "location": "/upload/",
              "cause": "upstream_reset_sending_body"}, N),
            ({"upstream": "", "server": SERVER, "location": "/small/", "cause": "body_too_large"},
             N),
        ])
        h.check(exhausted == 0, f"{exhausted} worker_connections_exhausted failures with a handful "
                "of connections open of 1024")
        h.check(aborts == 0, f"{aborts} client_abort failures: clients closing after nginx's answer")
        h.check(h.metric_value(s, "ngxwatch_findings", kind="worker_exhaustion",
                               severity="critical") in (None, 0), "a critical worker_exhaustion finding")
        t.expect_exact(s, "ngxwatch_client_visible_errors_total", scope, [
            ({"server": SERVER, "location": "/upload/", "status": "502"}, N),
            ({"server": SERVER, "location": "/small/", "status": "413"}, N),
        ])
        t.expect_location_clean(s, scope, "/ok/")

    t.run(args, nginx_bin, http, drive, closers=[bad, good], workers=2)


if __name__ == "__main__":
    h.run_test(body)
