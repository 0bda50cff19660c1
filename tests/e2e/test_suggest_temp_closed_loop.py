#!/usr/bin/env python3
"""The closed loop for a full body temp path: /upload/ spools request bodies into
client_body_temp_path on an 8 MiB tmpfs mounted for this test; four clients upload
3 MiB, 0.4 s apart, to a backend that reads each body and holds the request 3 s, so
the temp files stay, the filesystem fills and nginx answers 500 (ENOSPC). Recorded,
`ngxwatch suggest --trace` proposes `proxy_request_buffering off` with the measured
numbers as evidence; the diff is applied with patch(1), nginx reloads and the same
load runs under a fresh recording: no temp_file_error, every client gets 200."""

import json
import os
import subprocess
import tempfile
import threading
import time

import harness as h
from test_suggest_closed_loop import failures, recorded, suggest

SERVER = "suggest.temp-loop.test"
MIB = 1024 * 1024
UPLOADS, SIZE, GAP, HOLD = 4, 3 * MIB, 0.4, 3


def slow_ok(conn):
    """Reads the whole request body, holds the request HOLD s, answers 200."""
    head, _ = h.read_http_request(conn, timeout=15)
    if head is None:
        return
    time.sleep(HOLD)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")


def uploads(port):
    statuses, lock = [], threading.Lock()

    def upload():
        st = h.post(port, "/upload/file", SIZE, headers={"Host": SERVER}, timeout=15)
        with lock:
            statuses.append(st)

    threads = [threading.Thread(target=upload) for _ in range(UPLOADS)]
    for th in threads:  # staggered: each body is on disk before the next starts
        th.start()
        time.sleep(GAP)
    for th in threads:
        th.join(timeout=20)
    return sorted(statuses)


def body(args, nginx_bin):
    backend = h.Upstream(slow_ok, name="slow")
    mnt = os.path.realpath(tempfile.mkdtemp(prefix="ngxwatch-tmpfs-"))
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0777", "tmpfs", mnt],
                       capture_output=True, text=True)
    if r.returncode != 0:
        os.rmdir(mnt)
        backend.close()
        h.skip(f"cannot mount a tmpfs: {r.stderr.strip()}")
    port = h.free_port()
    nginx = h.Nginx(nginx_bin, f"""
    client_max_body_size 50m;
    upstream slow_app {{ server {backend.address}; }}

    server {{
        listen 127.0.0.1:{port};
        server_name {SERVER};

        location /upload/ {{
            client_body_temp_path {mnt}/body;
            proxy_read_timeout 10s;
            proxy_pass http://slow_app;
        }}
    }}""", workers=1)
    tmp = tempfile.mkdtemp(prefix="ngxwatch-suggest-temp-e2e-")
    before, after = os.path.join(tmp, "before.trace"), os.path.join(tmp, "after.trace")
    started = time.monotonic()
    try:
        nginx.start()
        st = recorded(args, port, before, uploads, settle=0.5)
        h.check(500 in st and 200 in st and set(st) == {200, 500}, f"statuses before: {st}")
        got = failures(args, before, SERVER)
        h.check(got.get("temp_file_error") == st.count(500), f"failures before: {got}, {st}")

        r = suggest(args, "--trace", before, "--json", "--nginx", nginx_bin, "--prefix", nginx.dir)
        h.check(r.returncode == 0, f"suggest --json exit {r.returncode}: {r.stderr}\n{r.stdout}")
        by_id = {s["id"]: s for s in json.loads(r.stdout)["suggestions"]}
        h.check(set(by_id) == {"request-buffering"}, f"suggestions: {r.stdout}")
        s = by_id["request-buffering"]
        ev = s["evidence"]
        h.check(s["diff"] and not s["refused"], f"no verified diff: {s}")
        h.check(f"{st.count(500)} request bod" in ev
                and f"client_body_temp_path {mnt}/body" in ev
                and "bodies up to 3.0 MiB" in ev and "retry" in ev, f"evidence: {ev}")

        r = suggest(args, "--trace", before, "--nginx", nginx_bin, "--prefix", nginx.dir)
        h.check(r.returncode == 0, f"suggest exit {r.returncode}: {r.stderr}")
        added = [l[1:].strip() for l in r.stdout.splitlines()
                 if l.startswith("+") and not l.startswith("+++")]
        removed = [l for l in r.stdout.splitlines() if l.startswith("-") and not l.startswith("---")]
        h.check(added == ["proxy_request_buffering off;"] and not removed,
                f"the diff is not minimal:\n{r.stdout}")
        p = subprocess.run(["patch", "-p1", "-d", nginx.dir], input=r.stdout, capture_output=True,
                           text=True, timeout=30)
        h.check(p.returncode == 0, f"patch failed: {p.stdout}{p.stderr}")
        nginx.reload()

        st = recorded(args, port, after, uploads, settle=0.5)
        h.check(st == [200] * UPLOADS, f"statuses after the fix: {st}")
        got = failures(args, after, SERVER)
        h.check("temp_file_error" not in got, f"failures after the fix: {got}")
        took = time.monotonic() - started
        h.check(took < 60, f"the closed loop took {took:.1f} s")
        print(f"evidence: {ev}\nafter the fix: 200 x {UPLOADS}; {took:.1f} s")
    except (AssertionError, OSError):
        print("---- nginx error log (tail)")
        print(nginx.error_log()[-3000:])
        raise
    finally:
        nginx.cleanup()
        backend.close()
        subprocess.run(["umount", "-l", mnt], capture_output=True)
        os.rmdir(mnt)
        if not os.environ.get("KEEP"):
            subprocess.run(["rm", "-rf", tmp])
        else:
            print("kept", tmp)


if __name__ == "__main__":
    h.run_test(body)
