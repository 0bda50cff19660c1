#!/usr/bin/env python3
"""`ngxwatch record` started before nginx (issue 9, items 3 and 5): the documented
after-incident workflow — record, restart nginx during the incident, analyze and
suggest from the trace — must hold the config of every master that ran while it
recorded, and `analyze --json` lists the detectors' findings in the live API's shape.

The recorder starts with no nginx of ours running; nginx starts, takes 6 POSTs its
upstream resets before answering and a retry storm of 20 clients, and the recording
ends. Then, offline:
  - analyze --json attributes the resets to server/location (exact count, no empty or
    "(unknown)" location) and lists a retry_storm finding at /pay/ with the same keys
    as the live snapshot's findings;
  - suggest --trace finds the configuration (not "holds no nginx configuration")."""

import http.client
import json
import os
import subprocess
import tempfile
import threading
import time

import harness as h

N = 6
SERVER = "record-restart.test"
FINDING_KEYS = {"kind", "severity", "upstream", "server", "location", "subject", "active",
                "onset_ns", "evidence", "numbers"}


def answers(status):
    def behaviour(conn):
        head, _ = h.read_http_request(conn)
        if head is None:
            return
        conn.sendall(b"HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno" % status)
    return behaviour


def storm(port, clients=20, seconds=3.0):
    def client(i):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5,
                                           source_address=(f"127.0.0.{i + 2}", 0))
            try:
                c.request("POST", "/pay/charge", body=b"{}", headers={"Host": SERVER})
                c.getresponse().read()
            except (OSError, http.client.HTTPException):
                pass
            finally:
                c.close()
            time.sleep(0.25)
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


def body(args, nginx_bin):
    bad = h.Upstream(h.resets_after_request, name="resetting")
    failing = h.Upstream(answers(503), name="failing")
    port = h.free_port()
    nginx = h.Nginx(nginx_bin, f"""
    client_max_body_size 10m;
    upstream backend_reset {{ server {bad.address}; }}
    upstream pay_app {{ server {failing.address}; }}
    server {{
        listen 127.0.0.1:{port};
        server_name {SERVER};
        location /upload/ {{ proxy_pass http://backend_reset; }}
        location /pay/    {{ proxy_pass http://pay_app; }}
    }}""", workers=1)
    trace = tempfile.mktemp(prefix="ngxwatch-", suffix=".trace")
    rec = None
    try:
        rec = subprocess.Popen([args.ngxwatch, "record", "-o", trace, "--duration", "9"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            line = rec.stdout.readline()
            seen.append(line)
            if not line or "recording to" in line:
                break
        h.check("recording to" in seen[-1], f"record did not start: {''.join(seen)}")
        nginx.start()  # after the recorder: the incident's restart
        statuses = [h.post(port, "/upload/file", 100_000, headers={"Host": SERVER})
                    for _ in range(N)]
        h.check(statuses == [502] * N, f"statuses {statuses}")
        storm(port)
        out = "".join(seen) + rec.communicate(timeout=30)[0]
        h.check(rec.returncode == 0, f"record exited {rec.returncode}: {out}")

        r = subprocess.run([args.ngxwatch, "analyze", "--json", trace], capture_output=True,
                           text=True, timeout=60)
        h.check(r.returncode == 0, f"analyze failed: {r.stderr}")
        report = json.loads(r.stdout)
        ours = [f for f in report["failures"] if f["upstream"] == "backend_reset"]
        h.check([(f["server"], f["location"], f["cause"], f["count"]) for f in ours] ==
                [(SERVER, "/upload/", "upstream_reset_before_header", N)],
                f"failures of backend_reset in the trace: {ours}")
        unlabeled = [f for f in report["failures"] + report["resets"]
                     if f["location"] in ("", "(unknown)")]
        h.check(not unlabeled, f"rows without a location: {unlabeled}")
        findings = report.get("findings")
        h.check(isinstance(findings, list), f"analyze --json has no findings list: {list(report)}")
        storms = [f for f in findings if f.get("kind") == "retry_storm"
                  and f.get("server") == SERVER and f.get("location") == "/pay/"]
        h.check(storms, f"no retry_storm finding at /pay/ in analyze --json: {findings}")
        h.check(set(storms[0]) == FINDING_KEYS, f"finding keys {sorted(storms[0])}, want "
                f"the live API's {sorted(FINDING_KEYS)}")

        s = subprocess.run([args.ngxwatch, "suggest", "--trace", trace], capture_output=True,
                           text=True, timeout=90)
        h.check("holds no nginx configuration" not in s.stdout + s.stderr,
                f"suggest --trace found no config in a trace recorded across nginx's start: "
                f"{(s.stdout + s.stderr)[:500]}")
        h.check(s.returncode in (0, 1), f"suggest --trace exit {s.returncode}: {s.stderr[:500]}")
        print(f"trace: {N} resets attributed, {len(findings)} findings, suggest --trace exit "
              f"{s.returncode}")
    except AssertionError:
        print("---- nginx error log (tail)")
        print(nginx.error_log()[-2000:])
        raise
    finally:
        if rec and rec.poll() is None:
            rec.kill()
        nginx.cleanup()
        bad.close()
        failing.close()
        if os.path.exists(trace):
            os.unlink(trace)


if __name__ == "__main__":
    h.run_test(body)
