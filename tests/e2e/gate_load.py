#!/usr/bin/env python3
"""A bounded large-POST load for `ngxwatch gate` tests: N POSTs of SIZE bytes to
http://127.0.0.1:PORT/PATH with a Host header, one after another. Like wrk or k6 it
exits 0 whatever the statuses (judging them is the gate's job) unless --exit is given;
it prints the statuses it got, so a test can compare them with the gate's verdict."""

import argparse
import http.client
import sys


def post(port, path, size, host):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("POST", path, body=b"x" * size,
                  headers={"Host": host, "Content-Type": "application/octet-stream"})
        r = c.getresponse()
        r.read()
        return r.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        c.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", required=True)
    p.add_argument("--host", required=True)
    p.add_argument("-n", type=int, default=4)
    p.add_argument("--size", type=int, default=8 << 20)
    p.add_argument("--exit", type=int, default=0, help="exit status after the load")
    a = p.parse_args()
    statuses = [post(a.port, a.path, a.size, a.host) for _ in range(a.n)]
    print("statuses:", " ".join(str(s) for s in statuses), flush=True)
    sys.exit(a.exit)


if __name__ == "__main__":
    main()
