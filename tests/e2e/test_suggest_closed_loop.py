#!/usr/bin/env python3
"""The test that proves the advice: real nginx, three upstreams that misbehave in one
named way each (the keepalive race, a backend slower than a short proxy_read_timeout,
bodies over a small client_max_body_size), `ngxwatch record` while the load runs,
`ngxwatch suggest --trace` -> a diff with the measured numbers as evidence. The diff
is applied to the real files with patch(1), nginx reloads, the same load runs again
under a fresh recording: no failure of those causes is left and every client gets a
2xx. Then bad input: a trace whose configuration cannot be loaded or verified makes
suggest say why and exit non-zero without a diff."""

import json
import os
import re
import signal
import struct
import subprocess
import tempfile
import threading
import time

import harness as h
from harness import KeepaliveBackend

SERVER = "suggest.closed-loop.test"
KA_IDLE, KA_DELAY = 1.0, 0.6
KA_GAP = KA_IDLE + KA_DELAY / 2   # reuse inside the backend's close window
KA_ROUNDS = 2
SLOW_OK, SLOW_LONG = 0.7, 1.5      # backend latency: normal, and the tail over 1 s
BODY = 10 * 1024                   # over client_max_body_size 1k


def latency_backend(conn):
    """Answers after SLOW_LONG s for /slow/report, SLOW_OK s for anything else."""
    head, _ = h.read_http_request(conn)
    if head is None:
        return
    time.sleep(SLOW_LONG if b" /slow/report" in head.split(b"\r\n", 1)[0] else SLOW_OK)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")


def load(port, server=SERVER):
    """The three scenarios in parallel; returns {scenario: [statuses]}."""
    hdr = {"Host": server}
    out = {"ka": [], "slow": [], "body": []}

    def ka():
        for _ in range(KA_ROUNDS):
            h.check(h.get(port, "/ka/prime", headers=hdr) == 200, "keepalive priming request")
            time.sleep(KA_GAP)
            out["ka"].append(h.post(port, "/ka/orders", 2048, headers=hdr))

    def slow():
        for path in ["/slow/list", "/slow/report", "/slow/list", "/slow/report", "/slow/list"]:
            out["slow"].append(h.get(port, path, headers=hdr))

    def body():
        for size in [512, BODY, BODY, 700, BODY]:
            out["body"].append(h.post(port, "/small/form", size, headers=hdr))

    threads = [threading.Thread(target=f) for f in (ka, slow, body)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return out


def recorded(args, port, trace, run_load=None, settle=KA_IDLE + KA_DELAY + 0.3):
    """Runs the load (this test's unless `run_load`) under `ngxwatch record`, stopped
    with SIGINT `settle` s after it is done."""
    rec = subprocess.Popen([args.ngxwatch, "record", "-o", trace, "--duration", "40"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        seen = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            line = rec.stdout.readline()
            seen.append(line)
            if not line or "recording to" in line:
                break
        h.check("recording to" in seen[-1], f"record did not start: {''.join(seen)}")
        statuses = (run_load or load)(port)
        time.sleep(settle)  # late closes of pooled connections
        rec.send_signal(signal.SIGINT)
        out = "".join(seen) + rec.communicate(timeout=20)[0]
        h.check(rec.returncode == 0, f"record exited {rec.returncode}: {out}")
        return statuses
    finally:
        if rec.poll() is None:
            rec.kill()


def suggest(args, *extra):
    return subprocess.run([args.ngxwatch, "suggest", *extra], capture_output=True, text=True,
                          timeout=60)


def failures(args, trace, server=SERVER):
    r = subprocess.run([args.ngxwatch, "analyze", "--json", trace], capture_output=True,
                       text=True, timeout=60)
    h.check(r.returncode == 0, f"analyze failed: {r.stderr}")
    return {f["cause"]: f["count"] for f in json.loads(r.stdout)["failures"]
            if f["server"] == server}


def with_config(trace, out, edit):
    """A copy of `trace` (format NGXWTRC3: magic, version, wall-clock anchor) whose
    masters' config snapshots are edited."""
    with open(trace, "rb") as f:
        data = f.read()
    h.check(data[:8] == b"NGXWTRC3", f"unexpected trace magic {data[:8]!r}")
    (masters,) = struct.unpack_from("<I", data, 20)
    pos, parts = 24, [data[:24]]
    for _ in range(masters):
        pid, n = struct.unpack_from("<II", data, pos)
        blob = edit(data[pos + 8:pos + 8 + n].decode()).encode()
        parts.append(struct.pack("<II", pid, len(blob)) + blob)
        pos += 8 + n
    with open(out, "wb") as f:
        f.write(b"".join(parts) + data[pos:])


def check_evidence(report):
    by_id = {s["id"]: s for s in report["suggestions"]}
    h.check({"keepalive-timeout", "read-timeout", "body-size"} <= set(by_id),
            f"suggestions {sorted(by_id)}: {json.dumps(report, indent=1)}")
    for s in by_id.values():
        h.check(s["diff"] and not s["refused"], f"{s['id']}: no verified diff: {s}")
    ka = by_id["keepalive-timeout"]["evidence"]
    idle = [float(x) for x in re.findall(r"after (\d+\.\d+)–(\d+\.\d+) s idle", ka)[0]]
    h.check(f"{KA_ROUNDS} requests on reused keepalive connections to backend_ka" in ka
            and KA_IDLE <= idle[0] <= idle[1] <= KA_IDLE + KA_DELAY
            and "keepalive_timeout is 60s (default)" in ka and f"{KA_ROUNDS} answered 502" in ka,
            f"keepalive evidence: {ka}")
    rt = by_id["read-timeout"]["evidence"]
    took = float(re.search(r"took up to (\d+\.\d+) s", rt).group(1))
    h.check("2 requests to backend_slow" in rt and "no upstream byte for 1.00 s" in rt
            and re.search(r"proxy_read_timeout is 1s \(at .*nginx.conf:\d+\)", rt)
            and "the 3 that succeeded" in rt and SLOW_OK <= took < SLOW_OK + 0.3,
            f"read-timeout evidence: {rt}")
    bs = by_id["body-size"]["evidence"]
    h.check("3 requests at location /small/" in bs and "10.0 KiB–10.0 KiB" in bs
            and re.search(r"client_max_body_size 1k \(at .*nginx.conf:\d+\)", bs)
            and "largest body accepted there 700 bytes" in bs, f"body-size evidence: {bs}")


def make_nginx(nginx_bin, server=SERVER):
    """nginx (not started) with the three misbehaving backends; also test_suggest_live."""
    ka = KeepaliveBackend(KA_IDLE, KA_DELAY, "rst")
    ka_up = h.Upstream(ka, name="keepalive")
    slow_up = h.Upstream(latency_backend, name="slow")
    app_up = h.Upstream(h.healthy, name="app")
    port = h.free_port()
    nginx = h.Nginx(nginx_bin, f"""
    include upstreams.conf;

    server {{
        listen 127.0.0.1:{port};
        server_name {server};

        # the pooled backend (it closes idle connections after {KA_IDLE} s)
        location /ka/ {{
            proxy_pass http://backend_ka;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
        location /slow/ {{ proxy_read_timeout 1s; proxy_pass http://backend_slow; }}
        location /small/ {{ client_max_body_size 1k; proxy_pass http://backend_app; }}
    }}""", workers=1)
    with open(os.path.join(nginx.dir, "upstreams.conf"), "w") as f:
        f.write(f"""# backends of {server}
upstream backend_ka {{
    server {ka_up.address};
    keepalive 4;   # a small pool
}}
upstream backend_slow {{ server {slow_up.address}; }}
upstream backend_app {{ server {app_up.address}; }}
""")
    return nginx, port, (ka_up, slow_up, app_up)


def cleanup(nginx, upstreams, tmp):
    """Undoes make_nginx and removes the test's temp dir."""
    nginx.cleanup()
    for u in upstreams:
        u.close()
    subprocess.run(["rm", "-rf", tmp])


def body(args, nginx_bin):
    nginx, port, upstreams = make_nginx(nginx_bin)
    tmp = tempfile.mkdtemp(prefix="ngxwatch-suggest-e2e-")
    before, after = os.path.join(tmp, "before.trace"), os.path.join(tmp, "after.trace")
    started = time.monotonic()
    try:
        nginx.start()
        st = recorded(args, port, before)
        h.check(st == {"ka": [502] * KA_ROUNDS, "slow": [200, 504, 200, 504, 200],
                       "body": [200, 413, 413, 200, 413]}, f"statuses before the fix: {st}")
        got = failures(args, before)
        h.check(got.get("keepalive_race") == KA_ROUNDS and got.get("read_timeout") == 2
                and got.get("body_too_large") == 3, f"failures before the fix: {got}")

        r = suggest(args, "--trace", before, "--json", "--nginx", nginx_bin, "--prefix", nginx.dir)
        h.check(r.returncode == 0, f"suggest --json exit {r.returncode}: {r.stderr}\n{r.stdout}")
        report = json.loads(r.stdout)
        check_evidence(report)
        h.check(report["root"] == nginx.dir and report["notes"] == [], f"root/notes: {report}")

        # The text output is a patch file: evidence as comments, then the diffs.
        r = suggest(args, "--trace", before, "--nginx", nginx_bin, "--prefix", nginx.dir)
        h.check(r.returncode == 0, f"suggest exit {r.returncode}: {r.stderr}")
        added = sorted(l[1:].strip() for l in r.stdout.splitlines()
                       if l.startswith("+") and not l.startswith("+++"))
        removed = sorted(l[1:].strip() for l in r.stdout.splitlines()
                         if l.startswith("-") and not l.startswith("---"))
        h.check(added == ["keepalive_timeout 900ms;",
                          "location /slow/ { proxy_read_timeout 2s; proxy_pass http://backend_slow; }",
                          "location /small/ { client_max_body_size 1m; proxy_pass http://backend_app; }"]
                and removed == ["location /slow/ { proxy_read_timeout 1s; proxy_pass http://backend_slow; }",
                                "location /small/ { client_max_body_size 1k; proxy_pass http://backend_app; }"],
                f"the diff is not minimal:\n{r.stdout}")
        h.check("# evidence:" in r.stdout and "--- a/upstreams.conf" in r.stdout
                and "--- a/nginx.conf" in r.stdout, f"text report:\n{r.stdout}")
        p = subprocess.run(["patch", "-p1", "-d", nginx.dir], input=r.stdout, capture_output=True,
                           text=True, timeout=30)
        h.check(p.returncode == 0, f"patch failed: {p.stdout}{p.stderr}")
        with open(os.path.join(nginx.dir, "upstreams.conf")) as f:
            h.check("keepalive 4;   # a small pool" in f.read(), "comments kept")
        nginx.reload()

        st = recorded(args, port, after)
        h.check(st == {"ka": [200] * KA_ROUNDS, "slow": [200] * 5, "body": [200] * 5},
                f"statuses after the fix: {st}")
        got = failures(args, after)
        h.check(not {"keepalive_race", "read_timeout", "body_too_large"} & set(got),
                f"failures after the fix: {got}")
        r = suggest(args, "--trace", after, "--json", "--nginx", nginx_bin, "--prefix", nginx.dir)
        h.check(r.returncode == 0 and json.loads(r.stdout)["suggestions"] == [],
                f"suggest after the fix: {r.stdout}{r.stderr}")

        # Bad input: an include that no longer exists; a config nginx -t rejects here.
        gone = os.path.join(tmp, "gone.trace")
        with_config(before, gone, lambda t: t.replace("include upstreams.conf;",
                                                      "include upstreams.conf; include /nonexistent/gone.conf;"))
        r = suggest(args, "--trace", gone, "--nginx", nginx_bin)
        h.check(r.returncode == 2 and "@@" not in r.stdout and "/nonexistent/gone.conf" in r.stderr,
                f"missing include: exit {r.returncode}\n{r.stdout}{r.stderr}")
        broken = os.path.join(tmp, "broken.trace")
        with_config(before, broken, lambda t: t.replace(
            f"error_log {nginx.dir}/logs/error.log info;", "error_log /nonexistent/dir/error.log info;"))
        r = suggest(args, "--trace", broken, "--nginx", nginx_bin)
        h.check(r.returncode == 2 and "@@" not in r.stdout and "/nonexistent/dir/error.log" in r.stderr
                and "refused" in r.stdout, f"unverifiable config: exit {r.returncode}\n{r.stdout}{r.stderr}")
        took = time.monotonic() - started
        h.check(took < 60, f"the closed loop took {took:.1f} s")
    except (AssertionError, OSError):
        print("---- nginx error log (tail)")
        print(nginx.error_log()[-3000:])
        raise
    finally:
        cleanup(nginx, upstreams, tmp)


if __name__ == "__main__":
    h.run_test(body)
