#!/usr/bin/env python3
"""Two nginx instances on one host with the same server and location names (their own
-c and -p): `suggest` judges a master's configuration on that master's measurements
only. Instance A times out 3 requests at /api/; instance B times out 1 at /api/ and 1
at /other/, so B names more measured locations and is the one advised on. Its
read-timeout evidence must count B's 1 request, not the 4 of both; the report says
A's measurements are kept apart. (Before measurements were kept per master identity,
both instances' timeouts were added up: "4 requests".)"""

import json
import os
import subprocess
import tempfile

import harness as h

SERVER = "twins.test"


def http_body(port, backend):
    return f"""
    upstream twins_app {{ server {backend.address}; }}
    server {{
        listen 127.0.0.1:{port};
        server_name {SERVER};
        proxy_read_timeout 1s;
        location /api/ {{ proxy_pass http://twins_app; }}
        location /other/ {{ proxy_pass http://twins_app; }}
    }}"""


def suggest_json(args, sock):
    r = subprocess.run([args.ngxwatch, "suggest", "--api-socket", sock, "--json"],
                       capture_output=True, text=True, timeout=90)
    return r, (json.loads(r.stdout) if r.stdout.strip().startswith("{") else None)


def body(args, nginx_bin):
    backend = h.Upstream(h.sleeps_after_request(3), name="silent backend")
    tmp = tempfile.mkdtemp(prefix="ngxwatch-twins-")
    sock = os.path.join(tmp, "api.sock")
    port_a, port_b = h.free_port(), h.free_port()
    a = h.Nginx(nginx_bin, http_body(port_a, backend), workers=1)
    b = h.Nginx(nginx_bin, http_body(port_b, backend), workers=1)
    daemon = None
    try:
        daemon = h.Daemon(args.ngxwatch, "--api-socket", sock)
        a.start()
        b.start()
        statuses = [h.get(port_a, "/api/x", host="127.0.0.1") for _ in range(3)]
        statuses += [h.get(port_b, "/api/x"), h.get(port_b, "/other/y")]
        h.check(statuses == [504] * 5, f"statuses: {statuses}")

        last = [None, None]

        def advised():
            last[0], last[1] = suggest_json(args, sock)
            report = last[1]
            # A report made before B's last failure arrived is a tie (one location
            # each) that goes to A; the daemon remakes it within 5 s.
            return report is not None and report["root"] == b.dir and any(
                s["id"] == "read-timeout" and s["location"] == "/api/"
                for s in report["suggestions"])
        try:
            h.wait_until(advised, 20, interval=1, what="a read-timeout suggestion at B's /api/")
        except AssertionError as e:
            raise AssertionError(f"{e}\n{last[0] and (last[0].stdout + last[0].stderr)}")
        report = last[1]
        api = [s for s in report["suggestions"]
               if s["id"] == "read-timeout" and s["location"] == "/api/"][0]
        h.check(api["evidence"].startswith("1 request to twins_app at"),
                f"B's evidence must count B's own timeout only: {api['evidence']}")
        print(f"  B advised on its own evidence: {api['evidence'][:60]}...")
        apart = [n for n in report["notes"] if f"nginx master {a.master_pid()}" in n
                 and "kept apart" in n]
        h.check(len(apart) == 1, f"want a note naming A's master as kept apart: {report['notes']}")
        print(f"  note: {apart[0]}")
        h.check(daemon.stop() == 0, "daemon exit status")
    except (AssertionError, OSError):
        if daemon:
            print("---- daemon log (tail)")
            print(daemon.output()[-3000:])
        raise
    finally:
        if daemon and daemon.proc.poll() is None:
            daemon.proc.kill()
        for n in (a, b):
            n.cleanup()
        backend.close()


if __name__ == "__main__":
    h.run_test(body)
