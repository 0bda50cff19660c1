"""Spine E2E: N POSTs to a location whose upstream resets every request are counted
as exactly N upstream resets with origin="peer" and that upstream's address; the
healthy upstream next to it shows none."""

import harness as h

N = 12
BODY = 3 * 1024 * 1024


def body(args, nginx_bin):
    bad = h.Upstream(h.resets_after_request, name="resetting")
    good = h.Upstream(h.healthy, name="healthy")
    port = h.free_port()
    nginx = h.Nginx(nginx_bin, f"""
    client_max_body_size 50m;
    server {{
        listen 127.0.0.1:{port};
        location /upload/reset {{ proxy_pass http://{bad.address}; }}
        location /upload/ok    {{ proxy_pass http://{good.address}; }}
    }}""")
    daemon = None
    try:
        others = h.Nginx.all_active_workers()  # a system nginx may run too
        nginx.start()
        daemon = h.Daemon(args.ngxwatch)
        statuses_bad = [h.post(port, "/upload/reset", BODY) for _ in range(N)]
        statuses_good = [h.post(port, "/upload/ok", BODY) for _ in range(N)]
        h.check(statuses_bad == [502] * N, f"resetting upstream should give 502s: {statuses_bad}")
        h.check(statuses_good == [200] * N, f"healthy upstream should give 200s: {statuses_good}")
        bad.expect_handled(N, "the resetting upstream")

        def peer_resets():
            return h.metric_sum(daemon.scrape(), "ngxwatch_resets_total", side="upstream",
                                origin="peer", peer=bad.address)
        h.wait_until(lambda: peer_resets() >= N, 5, what=f"{N} resets from {bad.address}")
        samples = daemon.scrape()
        got = h.metric_sum(samples, "ngxwatch_resets_total", side="upstream", origin="peer",
                           peer=bad.address)
        h.check(got == N, f"want exactly {N} resets from {bad.address}, got {got}")
        healthy = h.metric_sum(samples, "ngxwatch_resets_total", peer=good.address)
        h.check(healthy == 0, f"healthy upstream {good.address} shows {healthy} resets")
        # Not vacuous: the family is there (the bad peer's series) and the daemon saw the
        # healthy requests too.
        seen = h.metric_sum(samples, "ngxwatch_requests_seen_total")
        h.check(seen >= 2 * N, f"the daemon saw {seen} requests of {2 * N}")
        all_upstream = h.metric_sum(samples, "ngxwatch_resets_total", side="upstream")
        h.check(all_upstream == N, f"upstream resets in total {all_upstream}, want {N}")
        h.check(h.metric_value(samples, "ngxwatch_nginx_workers") == others + 2,
                f"ngxwatch_nginx_workers = {h.metric_value(samples, 'ngxwatch_nginx_workers')}")
        h.check(h.metric_value(samples, "ngxwatch_events_dropped_total") == 0, "events dropped")
        for probe in ("tcp_receive_reset", "tcp_send_reset", "inet_sock_set_state"):
            h.check(h.metric_value(samples, "ngxwatch_probe_attached", probe=probe) == 1,
                    f"probe {probe} not attached")
        h.check("104: Connection reset by peer" in nginx.error_log(),
                "nginx's own error log should show the resets")
        rc = daemon.stop()
        daemon = None
        h.check(rc == 0, f"ngxwatch exit code {rc} after SIGTERM")
    except AssertionError:
        if daemon:
            print(daemon.output()[-4000:])
        raise
    finally:
        if daemon:
            daemon.stop()
        nginx.cleanup()
        bad.close()
        good.close()


if __name__ == "__main__":
    h.run_test(body)
