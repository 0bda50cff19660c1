#!/usr/bin/env python3
"""Temp-dir fill: /upload/ spools request bodies (request buffering on, the default)
into client_body_temp_path on an 8 MiB tmpfs mounted for this test. Four clients
upload 3 MiB, 0.4 s apart, to an upstream that holds each request for 3 s, so the files stay
and the filesystem fills: two bodies fit, the others hit ENOSPC and nginx answers 500.

Expect: spooled bytes attributed to /upload/ (kind client_body) at least the bodies
that fit; the tmpfs path's free bytes reported; a finite time-to-full projection while
it fills; ngxwatch_failures_total{cause="temp_file_error",location="/upload/"} equal to
the 500s the clients got; a critical temp_dir_fill finding."""

import os
import subprocess
import threading
import time

import harness as h
import taxonomy_common as t

SERVER = "tempfill.detect.test"
MIB = 1024 * 1024


def slow_ok(conn):
    """Reads the request, holds it 3 s (nginx keeps the body's temp file), answers 200."""
    head, _ = h.read_http_request(conn)
    if head is None:
        return
    time.sleep(3)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")


def body(args, nginx_bin):
    backend = h.Upstream(slow_ok, name="slow")
    mnt = os.path.realpath(__import__("tempfile").mkdtemp(prefix="ngxwatch-tmpfs-"))
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0777", "tmpfs", mnt],
                       capture_output=True, text=True)
    if r.returncode != 0:
        os.rmdir(mnt)
        h.skip(f"cannot mount a tmpfs: {r.stderr.strip()}")
    port = h.free_port()
    http_body = f"""
    client_max_body_size 50m;
    upstream slow_app {{ server {backend.address}; }}
""" + t.server_block(port, SERVER, f"""
        location /upload/ {{
            client_body_temp_path {mnt}/body;
            proxy_read_timeout 10s;
            proxy_pass http://slow_app;
        }}""")
    path = f"{mnt}/body"

    def drive(daemon, nginx):
        statuses = []
        lock = threading.Lock()

        def upload():
            st = h.post(port, "/upload/file", 3 * MIB, headers={"Host": SERVER}, timeout=15)
            with lock:
                statuses.append(st)

        threads = [threading.Thread(target=upload) for _ in range(4)]
        for th in threads:  # staggered: each body is on disk before the next starts
            th.start()
            time.sleep(0.4)
        etas, frees = [], []
        while any(th.is_alive() for th in threads):
            s = daemon.scrape()
            eta = h.metric_value(s, "ngxwatch_temp_dir_full_eta_seconds", path=path)
            free = h.metric_value(s, "ngxwatch_temp_dir_free_bytes", path=path)
            if eta is not None:
                etas.append(eta)
            if free is not None:
                frees.append(free)
            time.sleep(0.2)
        failed = statuses.count(500)
        h.check(failed >= 1 and statuses.count(200) >= 1, f"upload statuses: {statuses}")
        h.check(failed + statuses.count(200) == len(statuses), f"upload statuses: {statuses}")
        h.check(frees and min(frees) <= 2 * MIB and max(frees) <= 8 * MIB,
                f"free bytes of {path} seen: {frees}")
        finite = [e for e in etas if e != float("inf")]
        h.check(finite and min(finite) < 60, f"time-to-full projections seen: {etas}")

        def settled():
            s = daemon.scrape()
            errs = h.metric_sum(s, "ngxwatch_failures_total", cause="temp_file_error",
                                server=SERVER, location="/upload/")
            return s if errs >= failed else None
        s = h.wait_until(settled, 5, what=f"{failed} temp_file_error failures")
        errs = h.metric_sum(s, "ngxwatch_failures_total", cause="temp_file_error")
        h.check(errs == failed, f"temp_file_error failures {errs}, clients got {failed} 500s")
        spooled = h.metric_value(s, "ngxwatch_temp_spooled_bytes_total", server=SERVER,
                                 location="/upload/", kind="client_body")
        h.check(spooled and spooled >= statuses.count(200) * 3 * MIB,
                f"spooled bytes for /upload/: {spooled}")
        h.check(h.metric_value(s, "ngxwatch_findings", kind="temp_dir_fill", severity="critical") == 1,
                "a critical temp_dir_fill finding")
        h.check("No space left on device" in nginx.error_log(), "nginx should log ENOSPC")
        print(f"statuses {statuses}; spooled {spooled / MIB:.1f} MiB; min free "
              f"{min(frees) / MIB:.2f} MiB; min ETA {min(finite):.1f} s; {int(errs)} temp_file_error")

    try:
        t.run(args, nginx_bin, http_body, drive, closers=[backend], workers=1)
    finally:
        subprocess.run(["umount", "-l", mnt], capture_output=True)
        os.rmdir(mnt)


if __name__ == "__main__":
    h.run_test(body)
