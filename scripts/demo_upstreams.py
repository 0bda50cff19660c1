#!/usr/bin/env python3
"""Misbehaving upstreams and a bounded client load for `scripts/demo` (stdlib only).

  demo_upstreams.py upstreams --out PORTS.json
      Serves four backends on loopback until SIGTERM and writes their ports:
        upload  reads the request head and 64 KiB of the body, then resets (RST):
                "upstream reset while nginx sends the body" (a backend's body limit)
        api     keep-alive backend with a 1 s idle timeout that closes idle
                connections 0.6 s late without reading what arrived (RST):
                the keepalive race, a POST on a pooled connection meets the close
        report  reads the request and stays silent for 4 s: past nginx's
                proxy_read_timeout 2s, nginx gives up (504)
        health  answers 200
  demo_upstreams.py load --port P --host uploads.demo [--duration S]
      One client thread per scenario, each at most one request in flight, every
      request with a timeout: a trickle that shows each failure mode, never a flood.
"""

import argparse
import http.client
import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time

IDLE, CLOSE_DELAY = 1.0, 0.6


def read_request(conn, timeout=10.0):
    conn.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk or len(data) > 1 << 20:
            return None, 0
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    need, got = (int(m.group(1)) if m else 0), len(rest)
    while got < need:
        chunk = conn.recv(min(1 << 20, need - got))
        if not chunk:
            break
        got += len(chunk)
    return head, got


def reset(conn):
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def upload_resets_mid_body(conn):
    conn.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    got = len(data.split(b"\r\n\r\n", 1)[1])
    while got < 64 * 1024:
        chunk = conn.recv(65536)
        if not chunk:
            return
        got += len(chunk)
    reset(conn)


def api_keepalive_race(conn):
    while True:
        conn.settimeout(IDLE)
        try:
            if not conn.recv(1, socket.MSG_PEEK):
                return
        except socket.timeout:
            time.sleep(CLOSE_DELAY)  # decided to close; gets to it late, unread data and all
            reset(conn)
            return
        head, n = read_request(conn)
        if head is None:
            return
        body = b'{"ok":true}\n'
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: keep-alive\r\n\r\n%s"
                     % (len(body), body))


def report_too_slow(conn):
    if read_request(conn)[0] is not None:
        time.sleep(4)


def healthy(conn):
    if read_request(conn)[0] is not None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")


def serve(behaviour):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)

    def handle(conn):
        try:
            behaviour(conn)
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def loop():
        while True:
            conn, _ = s.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return s.getsockname()[1]


def upstreams(args):
    ports = {"upload": serve(upload_resets_mid_body), "api": serve(api_keepalive_race),
             "report": serve(report_too_slow), "health": serve(healthy)}
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(ports, f)
    os.replace(tmp, args.out)  # the script waits for the file: write it whole
    signal.sigwait({signal.SIGTERM, signal.SIGINT})


def request(port, host, method, path, body=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers={"Host": host,
                                                     "Content-Type": "application/octet-stream"})
        r = c.getresponse()
        r.read()
        return r.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        c.close()


def load(args):
    stop = threading.Event()
    if args.duration:
        threading.Timer(args.duration, stop.set).start()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    body = b"u" * (1024 * 1024)
    # Query strings carry fake secrets: the daemon must never show them.
    scenarios = {
        "upload": (lambda: request(args.port, args.host, "POST", "/upload/photo?token=demo-secret",
                                   body), 1.5),
        "report": (lambda: request(args.port, args.host, "GET", "/report/daily?user=alice"), 3.0),
        "health": (lambda: request(args.port, args.host, "GET", "/health"), 0.5),
    }

    def api_race():
        # Prime the pool, then reuse the pooled connection inside the backend's close window.
        request(args.port, args.host, "GET", "/api/items")
        stop.wait(IDLE + CLOSE_DELAY / 2)
        return request(args.port, args.host, "POST", "/api/orders?session=demo-secret", b"{}")
    scenarios["api"] = (api_race, 0.5)

    def run(fn, pause):
        while not stop.is_set():
            fn()
            stop.wait(pause)
    threads = [threading.Thread(target=run, args=v, daemon=True) for v in scenarios.values()]
    for t in threads:
        t.start()
    while not stop.is_set():
        stop.wait(0.5)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("upstreams")
    u.add_argument("--out", required=True)
    l = sub.add_parser("load")
    l.add_argument("--port", type=int, required=True)
    l.add_argument("--host", default="uploads.demo")
    l.add_argument("--duration", type=float, default=0)
    args = p.parse_args()
    if args.cmd == "upstreams":
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
        upstreams(args)
    else:
        load(args)


if __name__ == "__main__":
    sys.exit(main())
