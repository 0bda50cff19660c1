"""`nginx -s reload` while the daemon runs: the new workers' resets are still counted
and ngxwatch_nginx_workers follows the worker set."""

import harness as h

N1, N2 = 5, 7


def body(args, nginx_bin):
    bad = h.Upstream(h.resets_after_request, name="resetting")
    port = h.free_port()
    nginx = h.Nginx(nginx_bin, f"""
    server {{
        listen 127.0.0.1:{port};
        location / {{ proxy_pass http://{bad.address}; }}
    }}""", workers=2)
    daemon = None

    def resets():
        return h.metric_sum(daemon.scrape(), "ngxwatch_resets_total", side="upstream",
                            origin="peer", peer=bad.address)

    def workers():
        return h.metric_value(daemon.scrape(), "ngxwatch_nginx_workers")

    try:
        others = h.Nginx.all_active_workers()  # a system nginx may run too
        nginx.start()
        daemon = h.Daemon(args.ngxwatch)
        for _ in range(N1):
            h.post(port, "/", 1024 * 1024)
        h.wait_until(lambda: resets() == N1, 5, what=f"{N1} resets before reload")

        old = set(nginx.worker_pids())
        nginx.workers = 3  # the reload also changes the worker count
        nginx.write_config(nginx.http_body)
        nginx.reload()
        new = set(nginx.worker_pids())
        h.check(len(new) == 3 and not (new & old), f"reload should replace workers: {old} -> {new}")
        h.wait_until(lambda: workers() == others + 3, 5, what="ngxwatch_nginx_workers == 3 after reload")

        for _ in range(N2):
            h.post(port, "/", 1024 * 1024)
        h.wait_until(lambda: resets() >= N1 + N2, 5, what=f"{N1 + N2} resets after reload")
        h.check(resets() == N1 + N2, f"want {N1 + N2} resets, got {resets()}")

        # A full restart: nginx stops (workers gauge to 0), starts again, still counted.
        nginx.stop()
        h.wait_until(lambda: workers() == others, 5, what="ngxwatch_nginx_workers == 0 after stop")
        nginx.start()
        h.wait_until(lambda: workers() == others + 3, 5, what="ngxwatch_nginx_workers == 3 after restart")
        h.check(h.post(port, "/", 1000) == 502, "restarted nginx should answer 502")
        h.wait_until(lambda: resets() >= N1 + N2 + 1, 5, what="the reset after restart")
        h.check(resets() == N1 + N2 + 1, f"want {N1 + N2 + 1} resets, got {resets()}")
    except AssertionError:
        if daemon:
            print(daemon.output()[-3000:])
        raise
    finally:
        if daemon:
            daemon.stop()
        nginx.cleanup()
        bad.close()


if __name__ == "__main__":
    h.run_test(body)
