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


def run(args, nginx_bin, http_body, drive, closers=(), workers=2):
    """Starts nginx and the daemon, runs `drive(daemon, nginx)`, stops everything.
    On failure prints the daemon's log and nginx's error log."""
    nginx = h.Nginx(nginx_bin, http_body, workers=workers)
    daemon = None
    try:
        nginx.start()
        daemon = h.Daemon(args.ngxwatch)
        drive(daemon, nginx)
        rc = daemon.stop()
        daemon = None
        h.check(rc == 0, f"ngxwatch exit code {rc} after SIGTERM")
    except (AssertionError, OSError) as e:
        if daemon:
            if daemon.proc.poll() is not None:
                print(f"---- ngxwatch exited with {daemon.proc.returncode}")
            print("---- daemon log (tail)")
            print(daemon.output()[-6000:])
        print("---- nginx error log (tail)")
        print(nginx.error_log()[-3000:])
        if isinstance(e, AssertionError):
            raise
        raise AssertionError(f"{type(e).__name__}: {e}") from e
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
