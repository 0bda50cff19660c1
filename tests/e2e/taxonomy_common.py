"""Shared frame of the taxonomy E2E tests (tests/e2e/test_taxonomy_*.py).

Each test runs one real nginx with one named server holding a misbehaving location and
a healthy one, a real upstream that misbehaves in exactly one way, the real daemon and
a real client, then asserts the *exact* label sets the daemon exported for that server
(every series with a non-zero value must be an expected one, with the expected count)
and that the healthy location shows nothing at all.

Series are scoped to this test by the server name, the upstream group names and the
upstream peers it created, so an nginx of another test running on the same host cannot
disturb the verdict; a failure exported with wrong (e.g. empty) labels still fails the
test because the expected series is then missing.
"""

import socket
import struct
import time

import harness as h
from harness import KeepaliveBackend

FAMILIES = (
    "ngxwatch_resets_total",
    "ngxwatch_upstream_errors_total",
    "ngxwatch_failures_total",
    "ngxwatch_client_visible_errors_total",
    "ngxwatch_upstream_retries_absorbed_total",
)


def server_block(port, server_name, body, extra=""):
    return f"""
    server {{
        listen 127.0.0.1:{port};
        server_name {server_name};
{extra}
{body}
    }}"""


class Scope:
    """Which exported series belong to this test."""

    def __init__(self, server, upstreams=(), peers=()):
        self.server = server
        self.upstreams = set(upstreams)
        self.peers = set(peers)

    def ours(self, labels):
        return (labels.get("server") == self.server
                or (labels.get("upstream") and labels.get("upstream") in self.upstreams)
                or (labels.get("peer") and labels.get("peer") in self.peers))


def series(samples, name, scope):
    """{frozenset(labels): value} of the non-zero series of `name` in scope."""
    return {frozenset(l.items()): v for n, l, v in samples
            if n == name and v > 0 and scope.ours(l)}


def fmt(labels):
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(dict(labels).items())) + "}"


def expect_exact(samples, name, scope, expected):
    """`expected`: list of (labels dict, want) where want is an int (exact count) or a
    callable(value) -> bool. Every in-scope series of `name` must be one of them."""
    got = series(samples, name, scope)
    problems = []
    want_keys = set()
    for labels, want in expected:
        key = frozenset(labels.items())
        want_keys.add(key)
        v = got.get(key, 0)
        ok = want(v) if callable(want) else v == want
        if not ok:
            problems.append(f"  {name}{fmt(labels)} = {v}, want {want.__doc__ if callable(want) else want}")
    for key, v in got.items():
        if key not in want_keys:
            problems.append(f"  unexpected {name}{fmt(key)} = {v}")
    if problems:
        dump = "\n".join(f"    {name}{fmt(k)} {v}" for k, v in sorted(got.items(), key=str))
        raise AssertionError(f"{name} is not as expected:\n" + "\n".join(problems)
                             + f"\n  in scope:\n{dump or '    (none)'}")


def at_least(n):
    def f(v):
        return v >= n
    f.__doc__ = f">= {n}"
    return f


def expect_location_clean(samples, scope, location):
    """The healthy location: no series of any family, in any label combination."""
    dirty = [f"  {n}{fmt(l)} = {v}" for n, l, v in samples
             if n in FAMILIES and v > 0 and l.get("location") == location
             and (l.get("server", scope.server) == scope.server)]
    h.check(not dirty, f"healthy location {location} shows series:\n" + "\n".join(dirty))


def failures_seen(daemon, scope, cause):
    return sum(v for k, v in series(daemon.scrape(), "ngxwatch_failures_total", scope).items()
               if dict(k).get("cause") == cause)


def settle(daemon, predicate, timeout, what, quiet=0.7):
    """Waits for `predicate(samples)`, then a quiet moment so that late events (a
    close after a reset) are counted before the exact assertions."""
    h.wait_until(lambda: predicate(daemon.scrape()), timeout, what=what)
    time.sleep(quiet)
    return daemon.scrape()


def run(args, nginx_bin, http_body, drive, closers=(), workers=2, daemon_args=()):
    """Starts nginx and the daemon, runs `drive(daemon, nginx)`, stops everything.
    On failure prints the daemon's log and nginx's error log."""
    nginx = h.Nginx(nginx_bin, http_body, workers=workers)
    daemon = None
    try:
        nginx.start()
        daemon = h.Daemon(args.ngxwatch, *daemon_args)
        drive(daemon, nginx)
        rc = daemon.stop()
        daemon = None
        h.check(rc == 0, f"ngxwatch exit code {rc} after SIGTERM")
    except (AssertionError, OSError) as e:
        h.fail_with_logs(e, daemon, nginx, tail=6000)
    finally:
        if daemon:
            daemon.stop()
        nginx.cleanup()
        for c in closers:
            c.close()


def raw_abort_upload(port, path, server_name, declared, sent, linger0=True):
    """A client that announces `declared` body bytes, sends `sent` of them and then
    resets the connection (SO_LINGER 0) or closes it (FIN)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    head = (f"POST {path} HTTP/1.1\r\nHost: {server_name}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {declared}\r\n\r\n")
    s.sendall(head.encode())
    chunk = b"y" * 65536
    left = sent
    while left > 0:
        s.sendall(chunk[:min(left, len(chunk))])
        left -= min(left, len(chunk))
    time.sleep(0.3)  # let nginx read what arrived before the client gives up
    if linger0:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


# ------------------------------------------------------------ keepalive race

KA_IDLE = 1.0    # the backend's idle timeout
KA_DELAY = 0.6   # how late it gets to closing a connection it decided to close
KA_GAP = KA_IDLE + KA_DELAY / 2  # nginx reuses the pooled connection inside that window


def keepalive_race(args, nginx_bin, mode):
    """One worker (one connection pool), upstream `keepalive 4`, HTTP/1.1 with
    `Connection ""`; the backend closes idle connections after KA_IDLE s, KA_DELAY s
    late and without reading what arrived (KeepaliveBackend). Each round primes the
    pool with a GET, waits KA_GAP s and sends the request under test on the pooled
    connection, which the backend then closes: an RST or a FIN on the first request
    after an idle period. Per DESIGN: a POST is not retried (502, client-visible); a GET
    is retried once on a new connection (200, retries_absorbed)."""
    server = f"keepalive-{mode}.taxonomy.test"
    ka = KeepaliveBackend(KA_IDLE, KA_DELAY, mode)
    bad = h.Upstream(ka, name="keepalive")
    good = h.Upstream(h.healthy, name="healthy")
    port = h.free_port()
    http = f"""
    upstream backend_ka {{ server {bad.address}; keepalive 4; }}
    upstream backend_ok {{ server {good.address}; }}
""" + server_block(port, server, """
        location /ka/ {
            proxy_pass http://backend_ka;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location /ok/ { proxy_pass http://backend_ok; }""")
    scope = Scope(server, ["backend_ka", "backend_ok"], [bad.address, good.address])
    methods = ["POST", "POST", "GET", "GET"]
    raced_posts, raced_gets = methods.count("POST"), methods.count("GET")
    error = "reset" if mode == "rst" else "closed"

    def drive(daemon, nginx):
        hdr = {"Host": server}
        results = []
        for m in methods:
            prime = h.get(port, "/ka/prime", headers=hdr)
            h.check(prime == 200, f"priming request got {prime}")
            time.sleep(KA_GAP)
            results.append(h.post(port, "/ka/orders", 2048, method=m, headers=hdr) if m == "POST"
                           else h.get(port, "/ka/orders", headers=hdr))
        want = [502 if m == "POST" else 200 for m in methods]
        h.check(results == want, f"statuses {results}, want {want} (POST not retried, GET retried)")
        h.check(ka.raced == len(methods), f"backend closed {ka.raced} connections with a request "
                f"waiting, want {len(methods)}")
        good_st = [h.get(port, "/ok/x", headers=hdr) for _ in range(3)]
        h.check(good_st == [200] * 3, f"healthy location: {good_st}")
        # The pool's last connection is then closed by the backend while idle: harmless.
        time.sleep(KA_IDLE + KA_DELAY + 0.5)
        s = settle(daemon, lambda s: failures_seen(daemon, scope, "keepalive_race") >= len(methods),
                   5, f"{len(methods)} keepalive_race failures")
        where = {"upstream": "backend_ka", "server": server, "location": "/ka/"}
        expect_exact(s, "ngxwatch_failures_total", scope,
                     [({**where, "cause": "keepalive_race"}, len(methods))])
        expect_exact(s, "ngxwatch_upstream_errors_total", scope,
                     [({**where, "peer": bad.address, "phase": "read_header", "error": error},
                       len(methods))])
        expect_exact(s, "ngxwatch_client_visible_errors_total", scope,
                     [({"server": server, "location": "/ka/", "status": "502"}, raced_posts)])
        expect_exact(s, "ngxwatch_upstream_retries_absorbed_total", scope,
                     [({"upstream": "backend_ka", "location": "/ka/"}, raced_gets)])
        if mode == "rst":
            # The races, and the idle pooled connection reset at the end (not a failure).
            expect_exact(s, "ngxwatch_resets_total", scope, [
                ({**where, "side": "upstream", "origin": "peer", "peer": bad.address,
                  "phase": "read_header"}, len(methods)),
                # labelled with the last request the connection served
                ({**where, "side": "upstream", "origin": "peer", "peer": bad.address,
                  "phase": "idle"}, 1),
            ])
        else:
            expect_exact(s, "ngxwatch_resets_total", scope, [])  # FINs only: no RST at all
        count = h.metric_value(s, "ngxwatch_keepalive_idle_before_reset_seconds_count")
        total = h.metric_value(s, "ngxwatch_keepalive_idle_before_reset_seconds_sum")
        h.check(count == len(methods),
                f"keepalive idle histogram count {count}, want one per race: {len(methods)}")
        mean = total / count
        h.check(KA_IDLE <= mean <= KA_IDLE + KA_DELAY,
                f"mean idle before the race {mean:.3f} s, want within the backend's close "
                f"window [{KA_IDLE}, {KA_IDLE + KA_DELAY}] (requests sent at ~{KA_GAP} s)")
        expect_location_clean(s, scope, "/ok/")

    run(args, nginx_bin, http, drive, closers=[bad, good], workers=1)
