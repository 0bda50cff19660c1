#!/usr/bin/env python3
"""A reset flood on nginx's upstream sockets (flood_common.py): N requests, each one RST
the upstream sends on a fresh nginx upstream connection, from 64 keepalive clients
through 4 nginx workers, in a network namespace of its own.

Expect: ngxwatch_resets_total{side="upstream",origin="peer"} equals, exactly, the
upstream's own count of its linger-0 closes and the namespace's TcpExtTCPAbortOnData
and TcpOutRsts deltas; every one of them carries its server, location and upstream
(none under "" or "(unknown)" when nothing was dropped); the daemon's peak RSS stays
below 64 MiB; /metrics and the API answered every probe during the flood. The
1,000,000-reset figures come from bench/flood.py, which runs the same code."""

import os

import flood_common as f
import harness as h

N = int(os.environ.get("NGXWATCH_FLOOD_N", "50000"))
RSS_LIMIT = 64 * 2**20


def body(args, nginx_bin):
    r = f.run_flood(args.ngxwatch, nginx_bin, N)
    print(f.report(r))
    k = r["kernel"]
    h.check(r["upstream_rsts"] == N, f"upstream closed {r['upstream_rsts']} connections, want {N}")
    h.check(k["TcpExt.TCPAbortOnData"] == N and k["Tcp.OutRsts"] == N,
            f"the namespace's own counts should be {N}: {k}")
    h.check(r["ngxwatch_resets"] == N,
            f"ngxwatch_resets_total counted {r['ngxwatch_resets']:.0f} upstream resets, the kernel {N}")
    where = {"side": "upstream", "origin": "peer", "peer": f"127.0.0.1:{f.UPSTREAM_PORT}",
             "server": f.SERVER, "location": "/flood/", "upstream": "flood_backend"}
    attributed = sum(v for labels, v in r["ngxwatch_resets_by_labels"].items()
                     if all(dict(labels).get(key) == val for key, val in where.items()))
    dropped = r["events_dropped"] or 0
    # A reset whose event the full ring dropped is counted all the same, without its
    # place: then (and only then) some may sit under location="(unknown)".
    h.check(attributed + (N if dropped else 0) >= N,
            f"only {attributed:.0f} of {N} resets carry their server/location/upstream "
            f"({dropped:.0f} events dropped): {r['ngxwatch_resets_by_labels']}")
    h.check(not [l for l in r["unlabelled_series"] if l.get("location") == ""],
            f"resets exported with empty labels: {r['unlabelled_series']}")
    if r["sanitized"]:
        print(f"  ASan build: peak RSS {r['rss_peak_bytes'] / 2**20:.1f} MiB is not held to the "
              f"{RSS_LIMIT >> 20} MiB limit (the normal build's run is)")
    else:
        h.check(r["rss_peak_bytes"] < RSS_LIMIT,
                f"daemon peak RSS {r['rss_peak_bytes'] / 2**20:.1f} MiB")
    h.check(not r["probe_failures"], f"/metrics or the API failed during the flood: {r['probe_failures'][:5]}")
    h.check(r["probes"][0] >= 2 and r["probes"][1] >= 2, f"too few probes during the flood: {r['probes']}")


if __name__ == "__main__":
    h.run_test(body)
