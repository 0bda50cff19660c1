#!/usr/bin/env python3
"""Right from the first packet (issue 9, item 1): nginx is started while the daemon
already runs — the on-call's first move during an incident is a restart — and the
failing traffic is already knocking: every client thread is connecting before nginx
is even executed, so its first requests land in the very first milliseconds of the new
master, long before any /proc scan would have seen it.

Four rows and a storm, all from the first instant:
  /api/   upstream resets after reading the request   -> upstream_reset_before_header, 502
  /small/ client_max_body_size 1m, 2 MiB POSTs        -> body_too_large, 413
  /down/  nothing listens on the upstream's port       -> connect_refused, 502
  /slow/  upstream never answers, read timeout 1 s    -> read_timeout, 504
  /pay/   20 clients re-POSTing a 503 every 250 ms    -> retry storm at /pay/

Expect exact labelled counts for every row and no series of any failure family (nor
of the storm) with an empty or "(unknown)" location. The positive checks make the
negative ones meaningful: a daemon that exported nothing fails them too."""

import http.client
import json
import socket
import subprocess
import threading
import time

import harness as h
import taxonomy_common as t

N = 6
SERVER = "first.packet.test"
STORM_CLIENTS = 20
STORM_SECONDS = 3.0
STORM_INTERVAL = 0.25


def answers(status):
    def behaviour(conn):
        head, _ = h.read_http_request(conn)
        if head is None:
            return
        conn.sendall(b"HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno" % status)
    return behaviour


def wait_listening(port, deadline):
    """Blocks until something accepts TCP on `port` (nginx binds before it forks)."""
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.002)
    return False


def request(port, method, path, size=0, source=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                   source_address=(source, 0) if source else None)
    try:
        c.request(method, path, body=b"x" * size if method == "POST" else None,
                  headers={"Host": SERVER, "Content-Type": "application/octet-stream"})
        r = c.getresponse()
        r.read()
        return r.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        c.close()


def unlabeled(samples):
    return [f"  {n}{t.fmt(l)} = {v}" for n, l, v in samples
            if (n in t.FAMILIES or n.startswith("ngxwatch_retry_storm")) and v > 0
            and "location" in l and l["location"] in ("", "(unknown)")]


def body(args, nginx_bin):
    resetting = h.Upstream(h.resets_after_request, name="resetting")
    silent = h.Upstream(h.sleeps_after_request(3), name="silent")
    failing = h.Upstream(answers(503), name="failing")
    good = h.Upstream(h.healthy, name="healthy")
    dead = f"127.0.0.1:{h.free_port()}"
    port = h.free_port()
    http_body = f"""
    upstream backend_reset {{ server {resetting.address}; }}
    upstream backend_down {{ server {dead}; }}
    upstream backend_slow {{ server {silent.address}; }}
    upstream backend_ok {{ server {good.address}; }}
    upstream pay_app {{ server {failing.address}; }}
""" + t.server_block(port, SERVER, """
        client_max_body_size 10m;
        location /api/   { proxy_pass http://backend_reset; }
        location /small/ { client_max_body_size 1m; proxy_pass http://backend_ok; }
        location /down/  { proxy_pass http://backend_down; }
        location /slow/  { proxy_read_timeout 1s; proxy_pass http://backend_slow; }
        location /pay/   { proxy_pass http://pay_app; }""")
    scope = t.Scope(SERVER, ["backend_reset", "backend_down", "backend_slow", "backend_ok",
                             "pay_app"], [resetting.address, dead, silent.address, good.address,
                                          failing.address])
    nginx = h.Nginx(nginx_bin, http_body, workers=2)
    api_socket = f"/tmp/ngxwatch-e2e-first-{port}.sock"
    daemon = h.Daemon(args.ngxwatch, "--api-socket", api_socket)
    results = {}
    lock = threading.Lock()
    go = threading.Event()

    def client(kind, method, path, size, source=None, repeat_for=0.0):
        go.wait()
        if not wait_listening(port, time.monotonic() + 10):
            return
        end = time.monotonic() + repeat_for
        while True:
            st = request(port, method, path, size, source)
            with lock:
                results.setdefault(kind, []).append(st)
            if time.monotonic() >= end:
                return
            time.sleep(STORM_INTERVAL)

    threads = []
    for _ in range(N):
        threads.append(threading.Thread(target=client, args=("api", "POST", "/api/up", 64 << 10)))
        threads.append(threading.Thread(target=client, args=("small", "POST", "/small/up", 2 << 20)))
        threads.append(threading.Thread(target=client, args=("down", "GET", "/down/x", 0)))
        threads.append(threading.Thread(target=client, args=("slow", "POST", "/slow/x", 1024)))
    for i in range(STORM_CLIENTS):
        threads.append(threading.Thread(target=client, args=("pay", "POST", "/pay/charge", 16,
                                                             f"127.0.0.{i + 2}", STORM_SECONDS)))
    try:
        for th in threads:
            th.start()
        go.set()  # the clients are connecting: now nginx
        started = time.monotonic()
        r = nginx._run()
        h.check(r.returncode == 0, f"nginx failed to start: {r.stderr.strip()}")
        storm_seen = False
        while any(th.is_alive() for th in threads):
            storm_seen = storm_seen or h.metric_value(
                daemon.scrape(), "ngxwatch_retry_storm_active", server=SERVER, location="/pay/") == 1
            time.sleep(0.2)
        print(f"all traffic done {time.monotonic() - started:.1f} s after nginx started")
        for kind, want in (("api", 502), ("small", 413), ("down", 502), ("slow", 504)):
            got = results.get(kind, [])
            h.check(got == [want] * N, f"{kind}: statuses {got}, want {N} x {want}")
        pay = results.get("pay", [])
        h.check(len(pay) >= STORM_CLIENTS * 4 and pay.count(503) == len(pay),
                f"storm statuses: {len(pay)} requests, {pay.count(503)} x 503")

        try:
            s = t.settle(daemon, lambda s: t.failures_seen(daemon, scope, "read_timeout") >= N
                         and t.failures_seen(daemon, scope, "body_too_large") >= N, 8,
                         "every row's failures")
        except AssertionError as e:
            s = daemon.scrape()  # the exact checks below say what is missing
            print(f"{e}\nunlabeled series:\n" + "\n".join(unlabeled(s)))
        def at(loc, up):
            return {"upstream": up, "server": SERVER, "location": loc}
        t.expect_exact(s, "ngxwatch_failures_total", scope, [
            ({**at("/api/", "backend_reset"), "cause": "upstream_reset_before_header"}, N),
            ({**at("/small/", ""), "cause": "body_too_large"}, N),
            ({**at("/down/", "backend_down"), "cause": "connect_refused"}, N),
            ({**at("/slow/", "backend_slow"), "cause": "read_timeout"}, N),
        ])
        t.expect_exact(s, "ngxwatch_client_visible_errors_total", scope, [
            ({"server": SERVER, "location": "/api/", "status": "502"}, N),
            ({"server": SERVER, "location": "/small/", "status": "413"}, N),
            ({"server": SERVER, "location": "/down/", "status": "502"}, N),
            ({"server": SERVER, "location": "/slow/", "status": "504"}, N),
        ])
        counted = h.metric_value(s, "ngxwatch_retry_storm_requests_total", server=SERVER,
                                 location="/pay/")
        h.check(storm_seen, "no ngxwatch_retry_storm_active{location=\"/pay/\"} == 1 during the storm")
        h.check(counted and counted >= STORM_CLIENTS * 2, f"storm requests counted at /pay/: {counted}")
        bad = unlabeled(s)
        h.check(not bad, "series without a location (attributed before the config was known):\n"
                + "\n".join(bad))
        awaited = h.metric_value(s, "ngxwatch_events_awaited_config_total") or 0
        lost = {r: h.metric_value(s, "ngxwatch_events_unattributed_total", reason=r)
                for r in ("wait_timeout", "wait_full", "config_unreadable")}
        h.check(awaited > 0, "no event waited for the new master's config: the traffic did "
                "not start with nginx (the test is not testing what it says)")
        h.check(not any(lost.values()), f"events went on without their config: {lost}")
        print(f"storm requests counted at /pay/: {int(counted)}; {int(awaited)} events waited "
              "for the new master's config")
        # The live API lists the detectors' findings (the shape analyze --json uses too).
        r = subprocess.run([args.ngxwatch, "top", "--once", "--json", "--api-socket", api_socket],
                           capture_output=True, text=True, timeout=30)
        h.check(r.returncode == 0, f"top --once --json: {r.stderr}")
        findings = json.loads(r.stdout).get("findings") or []
        storm = [f for f in findings if f.get("kind") == "retry_storm" and f.get("server") == SERVER
                 and f.get("location") == "/pay/"]
        h.check(storm, f"no retry_storm finding at /pay/ in the live snapshot: {findings}")
        keys = {"kind", "severity", "upstream", "server", "location", "subject", "active",
                "onset_ns", "evidence", "numbers"}
        h.check(set(storm[0]) == keys, f"finding keys {sorted(storm[0])}")
        rc = daemon.stop()
        h.check(rc == 0, f"ngxwatch exit code {rc} after SIGTERM")
    except AssertionError:
        if daemon.proc.poll() is None:
            print("---- daemon log (tail)")
            print(daemon.output()[-6000:])
        raise
    finally:
        daemon.stop()
        nginx.cleanup()
        for u in (resetting, silent, failing, good):
            u.close()


if __name__ == "__main__":
    h.run_test(body)
