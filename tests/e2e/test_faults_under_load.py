#!/usr/bin/env python3
"""Faults while nginx is under load: attribution survives each one, nothing unlabelled.

One nginx (2 workers) proxies /bad/ to an upstream that resets every request after
reading it (the load: 2 client threads, a new connection per request), /ka/ to a
keepalive backend, /slow/ to one that answers late. In turn:

(a) the daemon is SIGKILLed mid-load and started again. Connections it never saw open
    must be relearned (sock_diag and /proc at start): nginx's pooled keepalive
    connections to /ka/'s backend, which then resets each of them on its next request,
    and keepalive client connections, one of which then resets while nginx waits on
    /slow/. Each failure carries its server, location and upstream.
(b) an nginx worker is SIGKILLed (the master forks a new one);
(c) a binary upgrade: USR2, WINCH to the old master, QUIT to it;
(d) 100 reloads (SIGHUP), 50 ms apart.
After (b), (c), (d): every reset the /bad/ upstream sent (its own count) is exported
with server, location and upstream — exactly that many (after (b), up to the requests
the killed worker had in flight may miss, its sockets died with it) — and no series of
this nginx has an empty or "(unknown)" server or location, and no event waited out
its time for a config (a reload's worker that lived between two /proc scans is known
by its fork event; its events once waited 5 s, and a recycled socket's new owner
overtook them)."""

import contextlib
import http.client
import os
import signal
import socket
import threading
import time

import harness as h

SERVER = "faults.test"
LOAD_THREADS = 2


class DoomingBackend:
    """Keepalive HTTP/1.1: answers and keeps each connection. Connections accepted
    before doom() is called are reset (linger 0) on their next request; later ones are
    answered. `delay`: seconds before each answer (so concurrent requests need
    separate pooled connections)."""

    def __init__(self, delay=0.0):
        self.delay, self.generation, self.resets = delay, 0, 0
        self.lock = threading.Lock()

    def doom(self):
        self.generation += 1
        self.delay = 0.0

    def __call__(self, conn):
        born = self.generation
        while True:
            head, n = h.read_http_request(conn, timeout=120)
            if head is None:
                return
            if self.generation != born:
                with self.lock:
                    self.resets += 1
                h.reset_socket(conn)
                return
            time.sleep(self.delay)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n")


class Load:
    """LOAD_THREADS clients sending GET /bad/ on new connections; pause() waits until
    none is in flight."""

    def __init__(self, port):
        self.port, self.statuses = port, {}
        self.run, self.stop = threading.Event(), threading.Event()
        # How many threads wait in pause: a count, not a signal per pause, so that a
        # resume() at once followed by pause() (the thread never saw the run) still
        # finds it paused.
        self.paused, self.cv = 0, threading.Condition()
        self.threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(LOAD_THREADS)]
        self.run.set()
        for t in self.threads:
            t.start()

    def _loop(self):
        while not self.stop.is_set():
            if not self.run.is_set():
                with self.cv:
                    self.paused += 1
                    self.cv.notify_all()
                while not self.run.wait(0.1):
                    if self.stop.is_set():
                        return
                with self.cv:
                    self.paused -= 1
                continue
            st = h.get(self.port, "/bad/x", timeout=10, headers={"Host": SERVER})
            self.statuses[st] = self.statuses.get(st, 0) + 1

    def pause(self):
        self.run.clear()
        with self.cv:
            h.check(self.cv.wait_for(lambda: self.paused == len(self.threads), timeout=25),
                    "load thread did not pause")

    def resume(self):
        self.run.set()

    def close(self):
        self.stop.set()
        self.run.set()
        for t in self.threads:
            t.join(timeout=15)


def body(args, nginx_bin):
    bad = h.Upstream(h.resets_after_request, name="resetting")
    ka_backend = DoomingBackend(delay=0.5)
    ka = h.Upstream(ka_backend, name="keepalive")
    slow = h.Upstream(h.sleeps_after_request(4), name="slow")
    port = h.free_port()
    nginx = h.Nginx(nginx_bin, f"""
    upstream bad_backend {{ server {bad.address}; }}
    upstream ka_backend {{ server {ka.address}; keepalive 16; }}
    upstream slow_backend {{ server {slow.address}; }}
    server {{
        listen 127.0.0.1:{port};
        server_name {SERVER};
        keepalive_timeout 300s;
        location /bad/ {{ proxy_pass http://bad_backend; }}
        location /ka/ {{
            proxy_pass http://ka_backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
        location /slow/ {{ proxy_pass http://slow_backend; }}
    }}""", workers=2)
    peers = {bad.address: "bad_backend", ka.address: "ka_backend", slow.address: "slow_backend"}
    daemon = load = None
    held = []

    def unlabelled(s):
        """Series of this nginx without their place."""
        return [(n, l, v) for n, l, v in s if v > 0 and n.startswith("ngxwatch_")
                and (l.get("peer") in peers or l.get("server") == SERVER or l.get("upstream") in peers.values())
                and "location" in l and (l.get("location") in ("", "(unknown)")
                                         or l.get("server") in ("", "(unknown)"))]

    def bad_resets(s, labelled):
        want = {"side": "upstream", "origin": "peer", "peer": bad.address}
        if labelled:
            want.update(server=SERVER, location="/bad/", upstream="bad_backend")
        return h.metric_sum(s, "ngxwatch_resets_total", **want)

    def timed_out(s):
        """Events that waited out PendingEvents' time for their config (so far)."""
        return h.metric_sum(s, "ngxwatch_events_unattributed_total", reason="wait_timeout")

    def quiesce():
        """Load paused, the upstream's count and the daemon's settled: (handled, labelled, all)."""
        load.pause()
        h.wait_until(lambda: (lambda a: time.sleep(0.3) or a == bad.handled)(bad.handled), 10,
                     what="the resetting upstream to go quiet")
        s0, steady = None, 0

        def settled():
            # Unchanged for 2 s: a new worker's events wait (up to 5 s) for its master's
            # re-read config after a reload, longer on a loaded machine.
            nonlocal s0, steady
            s = daemon.scrape()
            same = s0 is not None and bad_resets(s, False) == bad_resets(s0, False)
            steady = steady + 1 if same else 0
            s0 = s
            return steady >= 4
        h.wait_until(settled, 20, interval=0.5, what="the daemon's counts to settle")
        return bad.handled, bad_resets(s0, True), bad_resets(s0, False), s0

    def self_counts(s):
        """What the daemon says it lost or waited for (so far): why a label is missing."""
        names = ("ngxwatch_events_dropped_total", "ngxwatch_events_unattributed_total",
                 "ngxwatch_events_awaited_config_total", "ngxwatch_capture_heads_lost_total",
                 "ngxwatch_kernel_map_evictions_total", "ngxwatch_resets_untracked_total")
        return {n.removeprefix("ngxwatch_") + "".join(f",{v}" for v in l.values()): v
                for n, l, v in s if n in names and v > 0}

    def phase(name, fault, slack=0):
        base_h, base_l, base_a, s = quiesce()
        base_timed_out = timed_out(s)
        load.resume()
        time.sleep(1)
        fault()
        time.sleep(1.5)
        end_h, end_l, end_a, s = quiesce()
        sent, labelled, total = end_h - base_h, end_l - base_l, end_a - base_a
        print(f"{name}: upstream sent {sent} RSTs; ngxwatch counted {total:.0f}, {labelled:.0f} with "
              f"server/location/upstream; load so far {load.statuses}; the daemon's own counts: "
              f"{self_counts(s)}")
        h.check(sent > 0, f"{name}: no load reached the upstream")
        h.check(labelled == total, f"{name}: {total - labelled:.0f} of {total:.0f} resets without their place")
        h.check(sent - slack <= labelled <= sent,
                f"{name}: the upstream sent {sent} RSTs, ngxwatch attributed {labelled:.0f}")
        h.check(not unlabelled(s), f"{name}: series without their place: {unlabelled(s)}")
        # A worker that lived between two /proc scans is known by its fork event: none
        # of its events waits out the timeout for its master's config.
        h.check(timed_out(s) == base_timed_out,
                f"{name}: {timed_out(s) - base_timed_out:.0f} events waited out their time for a config")
        load.resume()

    try:
        nginx.start()
        daemon = h.Daemon(args.ngxwatch)
        load = Load(port)

        # (a) Keepalive connections the next daemon has to relearn: upstream ones (8
        # concurrent slow answers open separate pooled connections) and client ones.
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            h.get(port, "/ka/x", headers={"Host": SERVER}))) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        h.check(results == [200] * 8, f"keepalive location: {results}")
        for _ in range(3):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", "/ka/y", headers={"Host": SERVER})
            r = c.getresponse()
            r.read()
            h.check(r.status == 200, f"client keepalive request: {r.status}")
            held.append(c)
        time.sleep(1)
        daemon.proc.send_signal(signal.SIGKILL)
        daemon.proc.wait(timeout=10)
        time.sleep(1)  # the load goes on unseen
        daemon = h.Daemon(args.ngxwatch)
        ka_backend.doom()
        # Each kept connection (client and upstream) predates this daemon.
        for c in held[:2]:
            c.request("GET", "/ka/z", headers={"Host": SERVER})
            r = c.getresponse()
            r.read()
            h.check(r.status == 200, f"GET on a doomed pooled connection is retried by nginx: {r.status}")
        h.check(ka_backend.resets > 0, "no pooled upstream connection was reused after the restart")
        c = held[2]
        c.sock.sendall(f"GET /slow/x HTTP/1.1\r\nHost: {SERVER}\r\n\r\n".encode())
        time.sleep(0.5)
        h.reset_socket(c.sock)
        want_ka = {"side": "upstream", "origin": "peer", "peer": ka.address, "server": SERVER,
                   "location": "/ka/", "upstream": "ka_backend"}
        want_client = {"side": "client", "origin": "peer", "server": SERVER, "location": "/slow/"}
        try:
            h.wait_until(lambda: h.metric_sum(daemon.scrape(), "ngxwatch_resets_total", **want_ka)
                         == ka_backend.resets and h.metric_sum(daemon.scrape(), "ngxwatch_resets_total",
                                                              **want_client) == 1, 10,
                         what="the relearned connections' resets, attributed")
        finally:
            s = daemon.scrape()
            print(f"(a) pooled upstream connections reset after the restart: {ka_backend.resets}; "
                  f"attributed: {h.metric_sum(s, 'ngxwatch_resets_total', **want_ka):.0f}; client reset at "
                  f"/slow/: {h.metric_sum(s, 'ngxwatch_resets_total', **want_client):.0f}; all ka resets: "
                  f"{[(l, v) for n, l, v in s if n == 'ngxwatch_resets_total' and l.get('peer') == ka.address]}")
        h.check(not unlabelled(s), f"(a) series without their place: {unlabelled(s)}")

        def kill_worker():
            old = nginx.worker_pids()
            os.kill(old[0], signal.SIGKILL)
            h.wait_until(lambda: len(set(nginx.worker_pids()) - set(old)) == 1 and len(nginx.worker_pids()) == 2,
                         10, what="the master to replace the killed worker")
            time.sleep(1)  # the new worker under load

        phase("(b) worker SIGKILL", kill_worker, slack=LOAD_THREADS)

        def upgrade():
            old_master = nginx.master_pid()
            old_workers = set(nginx.worker_pids())
            os.kill(old_master, signal.SIGUSR2)
            h.wait_until(lambda: nginx.master_pid() not in (None, old_master)
                         and len(nginx.worker_pids()) == 2, 10, what="the new master and its workers")
            os.kill(old_master, signal.SIGWINCH)
            h.wait_until(lambda: not any(os.path.exists(f"/proc/{p}") for p in old_workers), 15,
                         what="the old workers to finish")
            time.sleep(0.5)  # only the new master's workers serve now
            os.kill(old_master, signal.SIGQUIT)
            h.wait_until(lambda: not os.path.exists(f"/proc/{old_master}"), 10, what="the old master to exit")

        phase("(c) binary upgrade", upgrade)

        def reloads():
            master = nginx.master_pid()
            for _ in range(100):
                os.kill(master, signal.SIGHUP)
                time.sleep(0.05)
            h.wait_until(lambda: len(nginx.worker_pids(include_shutting_down=True)) == 2, 30,
                         what="the reloads' old workers to exit")

        phase("(d) 100 reloads", reloads)
    except AssertionError:
        if daemon:
            print(daemon.output()[-3000:])
        raise
    finally:
        if load:
            load.close()
        for c in held:
            with contextlib.suppress(OSError):
                c.close()
        if daemon:
            daemon.stop()
        nginx.cleanup()
        for u in (bad, ka, slow):
            u.close()


if __name__ == "__main__":
    h.run_test(body)
