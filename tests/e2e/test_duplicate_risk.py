#!/usr/bin/env python3
"""Duplicate-processing risk (issue 9, item 6): a POST whose body fully reached the
backend before the connection failed may have been executed although the client got
a 502/504 and will retry.

Counted in ngxwatch_duplicate_risk_total{upstream,server,location,cause}:
  /api/   POSTs the upstream reads in full, then resets before any header (502)
  /slow/  POSTs the upstream reads in full, then never answers (read timeout, 504)
Not counted (and checked to be failures all the same, so the absence means something):
  /api/   GETs meeting the same reset
  /upload/ POSTs the upstream resets after 1 MiB of 8 MiB (body cut mid-upload)

The live API's suggestion names the remedy (idempotency keys; proxy_next_upstream
without non_idempotent) for the locations at risk."""

import json
import subprocess

import harness as h
import taxonomy_common as t

N = 3
SERVER = "duplicate-risk.detect.test"


def cli_json(args, *argv):
    r = subprocess.run([args.ngxwatch, *argv], capture_output=True, text=True, timeout=90)
    h.check(r.returncode in (0, 1) and r.stdout, f"ngxwatch {' '.join(argv)}: {r.stderr}")
    return json.loads(r.stdout)


def body(args, nginx_bin):
    resetting = h.Upstream(h.resets_after_request, name="resetting")
    silent = h.Upstream(h.sleeps_after_request(3), name="silent")
    cut = h.Upstream(h.resets_mid_body(1 << 20), name="cut")
    port = h.free_port()
    http = f"""
    client_max_body_size 64m;
    upstream backend_reset {{ server {resetting.address}; }}
    upstream backend_slow {{ server {silent.address}; }}
    upstream backend_cut {{ server {cut.address}; }}
""" + t.server_block(port, SERVER, """
        location /api/    { proxy_pass http://backend_reset; }
        location /slow/   { proxy_read_timeout 1s; proxy_pass http://backend_slow; }
        location /upload/ { proxy_request_buffering off; proxy_pass http://backend_cut; }""")
    scope = t.Scope(SERVER, ["backend_reset", "backend_slow", "backend_cut"],
                    [resetting.address, silent.address, cut.address])
    api_socket = f"/tmp/ngxwatch-e2e-dup-{port}.sock"

    def drive(daemon, nginx):
        hdr = {"Host": SERVER}
        st = [h.post(port, "/api/pay", 4096, headers=hdr) for _ in range(N)]
        st += [h.post(port, "/slow/hook", 4096, headers=hdr) for _ in range(N)]
        st += [h.get(port, "/api/pay", headers=hdr) for _ in range(N)]
        st += [h.post(port, "/upload/file", 8 << 20, headers=hdr) for _ in range(N)]
        want = [502] * N + [504] * N + [502] * N
        h.check(st[:3 * N] == want, f"statuses {st[:3 * N]}, want {want}")
        h.check(all(x in (502, None) for x in st[3 * N:]), f"cut uploads: {st[3 * N:]}")
        s = t.settle(daemon, lambda s: t.failures_seen(daemon, scope, "upstream_reset_sending_body")
                     >= N and t.failures_seen(daemon, scope, "read_timeout") >= N, 8,
                     "every failure")
        # The failures that are not a risk exist (GETs: the same cause at the same place).
        t.expect_exact(s, "ngxwatch_failures_total", scope, [
            ({"upstream": "backend_reset", "server": SERVER, "location": "/api/",
              "cause": "upstream_reset_before_header"}, 2 * N),
            ({"upstream": "backend_slow", "server": SERVER, "location": "/slow/",
              "cause": "read_timeout"}, N),
            ({"upstream": "backend_cut", "server": SERVER, "location": "/upload/",
              "cause": "upstream_reset_sending_body"}, N),
        ])
        t.expect_exact(s, "ngxwatch_duplicate_risk_total", scope, [
            ({"upstream": "backend_reset", "server": SERVER, "location": "/api/",
              "cause": "upstream_reset_before_header"}, N),
            ({"upstream": "backend_slow", "server": SERVER, "location": "/slow/",
              "cause": "read_timeout"}, N),
        ])
        snap = cli_json(args, "top", "--once", "--json", "--api-socket", api_socket)
        total = snap["header"]["totals"].get("duplicate_risk")
        h.check(total == 2 * N, f"top's header: duplicate_risk {total}, want {2 * N}")
        risky = {}
        for r in snap["rows"]:
            if r["server"] == SERVER:
                risky[r["location"]] = risky.get(r["location"], 0) + r["totals"].get("duplicate_risk", 0)
        h.check(risky.get("/api/") == N and risky.get("/slow/") == N and not risky.get("/upload/"),
                f"top's rows: duplicate_risk per location {risky}")
        last = [""]

        def advised():
            last[0] = json.dumps(cli_json(args, "suggest", "--api-socket", api_socket, "--json"))
            return "idempotency key" in last[0] and "non_idempotent" in last[0]
        try:  # the daemon caches its report for 5 s
            h.wait_until(advised, 20, interval=1, what="a duplicate-risk suggestion")
        except AssertionError as e:
            raise AssertionError(f"{e}: no suggestion naming idempotency keys and "
                                 f"non_idempotent in {last[0][:3000]}")

    t.run(args, nginx_bin, http, drive, closers=[resetting, silent, cut],
          daemon_args=("--api-socket", api_socket))


if __name__ == "__main__":
    h.run_test(body)
