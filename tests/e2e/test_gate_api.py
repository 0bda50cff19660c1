#!/usr/bin/env python3
"""`ngxwatch gate --api-socket`: on a host whose daemon already runs, the gate attaches
nothing and judges the difference of the daemon's snapshots before and after the load.

- the resetting upstream: exit 1, the verdict names backend_reset /upload/
  upstream_reset_sending_body with the run's count only (a first run's failures, made
  before this gate started, are not counted again);
- the healthy location: exit 0 and the requests the daemon saw during the run equal
  the POSTs sent;
- a socket where no daemon listens: exit 2, one line."""

import json
import os
import tempfile

import harness as h
import test_gate as g


def body(args, nginx_bin):
    nginx, bad, good, port = g.upload_nginx(nginx_bin)
    sock = tempfile.mktemp(prefix="ngxwatch-gate-api-", suffix=".sock")
    daemon = None
    try:
        nginx.start()
        daemon = h.Daemon(args.ngxwatch, "--api-socket", sock)
        h.wait_until(lambda: os.path.exists(sock), 10, what="the daemon's API socket")
        # Failures before the gate: the daemon counts them, the gate must not.
        statuses = [h.post(port, "/upload/early", g.BODY, headers={"Host": g.SERVER}) for _ in range(2)]
        h.check(statuses == [502, 502], f"the warm-up should give 502s: {statuses}")
        # ... once the daemon has them (its loop may still hold the last resets).
        h.wait_until(lambda: h.metric_sum(daemon.scrape(), "ngxwatch_failures_total",
                                          server=g.SERVER) >= 2, 10,
                     what="the daemon counting the warm-up failures")

        r = g.gate(args, "--api-socket", sock, "--json", load=g.load(port, "/upload/big"))
        h.check(r.returncode == 1, "a resetting upstream should fail the gate: " + g.explain(r))
        v = json.loads(r.stdout)
        up = [l for l in v["locations"] if l["server"] == g.SERVER and l["location"] == "/upload/"]
        h.check(up and [(f["upstream"], f["cause"], f["count"]) for f in up[0]["failures"]]
                == [("backend_reset", "upstream_reset_sending_body", g.N)]
                and up[0]["client_visible_errors"] == g.N and up[0]["requests"] == g.N
                and v["source"].startswith("the daemon's API"),
                f"the verdict should count this run's {g.N} failures only: {json.dumps(v)[:2000]}")

        r = g.gate(args, "--api-socket", sock, "--json", load=g.load(port, "/ok/big"))
        h.check(r.returncode == 0, "a healthy upstream should pass the gate: " + g.explain(r))
        v = json.loads(r.stdout)
        ok = [l for l in v["locations"] if l["server"] == g.SERVER and l["location"] == "/ok/"]
        h.check(ok and ok[0]["requests"] == g.N and not ok[0]["failures"],
                f"the daemon should have seen the {g.N} healthy POSTs: {json.dumps(v)[:2000]}")

        r = g.gate(args, "--api-socket", sock + ".absent", load=["true"])
        h.check(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1,
                "an unreachable daemon is one usage line: " + g.explain(r))
        rc = daemon.stop()
        daemon = None
        h.check(rc == 0, f"ngxwatch exit code {rc} after SIGTERM")
    except (AssertionError, OSError) as e:
        h.fail_with_logs(e, daemon, nginx, tail=4000)
    finally:
        if daemon:
            daemon.stop()
        nginx.cleanup()
        bad.close()
        good.close()


if __name__ == "__main__":
    h.run_test(body)
