#!/usr/bin/env python3
"""An event that can never be attributed (issue 9, item 1): nginx starts, and its
config file is gone before the daemon can read it (deleted right after the start, as a
deploy that swaps directories may do). Its failures must not look like "no location
matched" (location=""): they are exported with location="(unknown)" and counted in
ngxwatch_events_unattributed_total{reason="config_unreadable"}."""

import os

import harness as h
import taxonomy_common as t

N = 4


def body(args, nginx_bin):
    bad = h.Upstream(h.resets_after_request, name="resetting")
    port = h.free_port()
    nginx = h.Nginx(nginx_bin, f"""
    server {{
        listen 127.0.0.1:{port};
        server_name unattributable.test;
        location /api/ {{ proxy_pass http://{bad.address}; }}
    }}""", workers=1)
    daemon = h.Daemon(args.ngxwatch)
    try:
        r = nginx._run()
        h.check(r.returncode == 0, f"nginx failed to start: {r.stderr}")
        os.unlink(nginx.conf)  # nginx has it in memory; nobody can read it any more
        h.wait_until(lambda: nginx.master_pid(), 10, what="nginx pid file")
        st = [h.post(port, "/api/x", 4096, headers={"Host": "unattributable.test"})
              for _ in range(N)]
        h.check(st == [502] * N, f"statuses {st}")

        def unknown(s):
            return h.metric_sum(s, "ngxwatch_failures_total", location="(unknown)",
                                cause="upstream_reset_before_header")
        s = t.settle(daemon, lambda s: unknown(s) >= N, 8, f"{N} failures at (unknown)")
        h.check(unknown(s) == N, f"(unknown) failures {unknown(s)}, want {N}")
        empty = h.metric_sum(s, "ngxwatch_failures_total", location="")
        h.check(empty == 0, f"{empty} failures exported with location=\"\"")
        reason = h.metric_value(s, "ngxwatch_events_unattributed_total",
                                reason="config_unreadable")
        h.check(reason and reason > 0, f"unattributed events by reason: {reason}")
        print(f"{N} failures at location=\"(unknown)\", {int(reason)} events config_unreadable")
        h.check("configuration not loaded" in daemon.output(), "the daemon says why")
        rc = daemon.stop()
        h.check(rc == 0, f"ngxwatch exit code {rc}")
    except AssertionError:
        print(daemon.output()[-3000:])
        raise
    finally:
        daemon.stop()
        with open(nginx.conf, "w") as f:
            f.write("events {}\n")  # cleanup() stops nginx by its pid file, not -c
        nginx.cleanup()
        bad.close()


if __name__ == "__main__":
    h.run_test(body)
