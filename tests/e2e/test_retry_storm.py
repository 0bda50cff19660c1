#!/usr/bin/env python3
"""Retry storm: 20 clients, each from its own source address (127.0.0.2..21), keep
re-sending a POST that the upstream answers 503 — the storm a payment page's retry
button makes. Expect ngxwatch_retry_storm_active{location="/pay/"} within 5 s of the
first request, a critical retry_storm finding (non-idempotent POSTs retried), storm
requests counted, and the storm cleared within 10 s once the clients stop.

First, the same burst (same clients, same rate) against a location that answers 200:
that is a busy location, not a storm, and must never be flagged."""

import http.client
import threading
import time

import harness as h
import taxonomy_common as t

SERVER = "storm.detect.test"
CLIENTS = 20
SECONDS = 4.0
INTERVAL = 0.25  # each client retries every 250 ms: 80 req/s at the location


def answers(status):
    def behaviour(conn):
        head, _ = h.read_http_request(conn)
        if head is None:
            return
        conn.sendall(b"HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno" % status)
    return behaviour


def burst(port, path):
    """CLIENTS clients, each bound to its own loopback address, POSTing `path` every
    INTERVAL for SECONDS. Returns the statuses."""
    statuses, lock = [], threading.Lock()

    def client(i):
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5,
                                           source_address=(f"127.0.0.{i + 2}", 0))
            try:
                c.request("POST", path, body=b'{"amount": 10}',
                          headers={"Host": SERVER, "Content-Type": "application/json"})
                st = c.getresponse().status
            except (OSError, http.client.HTTPException):
                st = None
            finally:
                c.close()
            with lock:
                statuses.append(st)
            time.sleep(INTERVAL)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for th in threads:
        th.start()
    return threads, statuses


def storm_active(daemon, location):
    return h.metric_value(daemon.scrape(), "ngxwatch_retry_storm_active",
                          server=SERVER, location=location)


def body(args, nginx_bin):
    failing = h.Upstream(answers(503), name="failing")
    good = h.Upstream(answers(200), name="good")
    port = h.free_port()
    http_body = f"""
    upstream pay_app {{ server {failing.address}; }}
    upstream ok_app {{ server {good.address}; }}
""" + t.server_block(port, SERVER, """
        location /pay/ { proxy_pass http://pay_app; }
        location /ok/  { proxy_pass http://ok_app; }""")

    def drive(daemon, nginx):
        # A healthy burst of the same size: busy, not a storm.
        seen_before = h.metric_sum(daemon.scrape(), "ngxwatch_requests_seen_total")
        threads, statuses = burst(port, "/ok/charge")
        flagged = False
        while any(th.is_alive() for th in threads):
            flagged = flagged or storm_active(daemon, "/ok/") == 1
            time.sleep(0.2)
        h.check(statuses.count(200) == len(statuses), f"healthy burst statuses: {set(statuses)}")
        time.sleep(1)
        flagged = flagged or storm_active(daemon, "/ok/") == 1
        h.check(not flagged, "a healthy burst of the same size was called a retry storm")
        # Not vacuous: the daemon saw the healthy burst's requests.
        seen = h.metric_sum(daemon.scrape(), "ngxwatch_requests_seen_total")
        h.check(seen - seen_before >= len(statuses),
                f"the daemon saw {seen - seen_before} requests of the {len(statuses)} of the "
                "healthy burst: the negative check would judge nothing")

        onset = time.monotonic()
        threads, statuses = burst(port, "/pay/charge")
        h.wait_until(lambda: storm_active(daemon, "/pay/") == 1, 5,
                     what="retry_storm_active for /pay/ within 5 s of onset")
        detected_after = time.monotonic() - onset
        s = daemon.scrape()
        h.check(h.metric_value(s, "ngxwatch_findings", kind="retry_storm", severity="critical") == 1,
                "a critical retry_storm finding (POST retried: duplicate-processing risk)")
        for th in threads:
            th.join()
        h.check(statuses.count(503) > len(statuses) * 0.9, f"storm statuses: {set(statuses)}")
        stopped = time.monotonic()
        h.wait_until(lambda: storm_active(daemon, "/pay/") == 0, 10, what="the storm to clear")
        cleared_after = time.monotonic() - stopped
        s = daemon.scrape()
        counted = h.metric_value(s, "ngxwatch_retry_storm_requests_total", server=SERVER,
                                 location="/pay/")
        h.check(counted and counted >= 100, f"storm requests counted: {counted}")
        h.check(h.metric_value(s, "ngxwatch_findings", kind="retry_storm", severity="critical") == 0,
                "the finding ends with the storm")
        # The family exists now (/pay/'s series): /ok/ is absent from it or 0, never 1.
        h.check(any(n == "ngxwatch_retry_storm_active" for n, _, _ in s),
                "no ngxwatch_retry_storm_active family in the scrape")
        h.check(not storm_active(daemon, "/ok/"), "/ok/ still not a storm")
        print(f"storm detected after {detected_after:.1f} s, cleared {cleared_after:.1f} s after "
              f"it stopped; {int(counted)} storm requests")

    t.run(args, nginx_bin, http_body, drive, closers=[failing, good], workers=1)


if __name__ == "__main__":
    h.run_test(body)
