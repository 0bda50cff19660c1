#!/usr/bin/env python3
"""What was measured survives nginx's restart (issue 9, item 3): after the incident the
on-call stops nginx and asks `ngxwatch suggest`. The daemon keeps the exited master's
configuration (default 1 h), so the answer is the advice on the measurements — saying
which master and config it is judged against — not "no nginx master's configuration is
loaded". A new master with the same binary, -c and -p continues it.

Load: 4 POSTs to /slow/ (proxy_read_timeout 1s, a backend that answers in 1.3 s: read
timeouts, which `suggest` fixes with a longer proxy_read_timeout)."""

import json
import os
import subprocess
import tempfile
import time

import harness as h

SERVER = "suggest.restart.test"


def suggest_json(args, sock):
    r = subprocess.run([args.ngxwatch, "suggest", "--api-socket", sock, "--json"],
                       capture_output=True, text=True, timeout=90)
    return r, (json.loads(r.stdout) if r.stdout.strip().startswith("{") else None)


def wait_report(args, sock, want_note, what):
    last = [None]

    def ready():
        r, doc = suggest_json(args, sock)
        last[0] = (r.returncode, r.stdout[-1500:], r.stderr[-500:])
        return doc and any(s["id"] == "read-timeout" for s in doc.get("suggestions", [])) and \
            any(want_note in n for n in doc.get("notes", [])) and doc
    try:
        return h.wait_until(ready, 25, interval=1, what=what)
    except AssertionError as e:
        raise AssertionError(f"{e}: last suggest {last[0]}")


def body(args, nginx_bin):
    slow = h.Upstream(h.sleeps_after_request(1.3), name="slow")
    port = h.free_port()
    nginx = h.Nginx(nginx_bin, f"""
    upstream backend_slow {{ server {slow.address}; }}
    server {{
        listen 127.0.0.1:{port};
        server_name {SERVER};
        location /slow/ {{ proxy_read_timeout 1s; proxy_pass http://backend_slow; }}
    }}""", workers=1)
    tmp = tempfile.mkdtemp(prefix="ngxwatch-restart-")
    sock = os.path.join(tmp, "api.sock")
    daemon = None
    try:
        nginx.start()
        first = nginx.master_pid()
        daemon = h.Daemon(args.ngxwatch, "--api-socket", sock)
        st = [h.post(port, "/slow/x", 1000, headers={"Host": SERVER}) for _ in range(4)]
        h.check(st == [504] * 4, f"statuses {st}")
        wait_report(args, sock, f"nginx master {first}", "advice while nginx runs")

        nginx.stop()
        h.wait_until(lambda: not os.path.exists(f"/proc/{first}"), 10, what="nginx to exit")
        doc = wait_report(args, sock, "which exited", "advice after nginx stopped")
        note = [n for n in doc["notes"] if "which exited" in n][0]
        h.check(f"nginx master {first}" in note and nginx.conf in note,
                f"the note does not say which master and config: {note}")
        h.check(doc["root"] == nginx.dir, f"advice about another nginx: {doc['root']}")

        nginx.start()  # same binary, -c and -p: continues it
        second = nginx.master_pid()
        wait_report(args, sock, f"nginx master {second}", "advice on the new master")
        print(f"advice kept across the stop of master {first}; continued by master {second}")
        rc = daemon.stop()
        daemon = None
        h.check(rc == 0, f"ngxwatch exit code {rc}")
    except AssertionError:
        if daemon:
            print(daemon.output()[-4000:])
        raise
    finally:
        if daemon:
            daemon.stop()
        nginx.cleanup()
        slow.close()


if __name__ == "__main__":
    h.run_test(body)
