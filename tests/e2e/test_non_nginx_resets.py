"""Resets between two processes that are not nginx are not counted, even while an
nginx runs on the same host and sees resets of its own."""

import socket

import harness as h

N = 20


def reset_pair(server):
    """A plain client/server pair on loopback, neither of them nginx; the server resets."""
    c = socket.create_connection((server.host, server.port), timeout=5)
    c.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    try:
        c.recv(100)  # the RST arrives here
    except OSError:
        pass
    c.close()


def body(args, nginx_bin):
    foreign = h.Upstream(h.resets_after_request, host="127.0.0.3", name="foreign")
    bad = h.Upstream(h.resets_after_request, name="resetting")
    port = h.free_port()
    nginx = h.Nginx(nginx_bin, f"""
    server {{
        listen 127.0.0.1:{port};
        location / {{ proxy_pass http://{bad.address}; }}
    }}""")
    daemon = None
    try:
        nginx.start()
        daemon = h.Daemon(args.ngxwatch)
        for _ in range(N):
            reset_pair(foreign)
        h.wait_until(lambda: foreign.handled == N, 5, what="foreign resets")
        # One nginx reset afterwards proves the daemon was watching all along.
        h.check(h.post(port, "/", 100) == 502, "nginx should answer 502")
        h.wait_until(lambda: h.metric_sum(daemon.scrape(), "ngxwatch_resets_total") >= 1, 5,
                     what="the nginx reset")
        samples = daemon.scrape()
        total = h.metric_sum(samples, "ngxwatch_resets_total")
        h.check(total == 1, f"only nginx's one reset may be counted, got {total}")
        h.check(h.metric_sum(samples, "ngxwatch_resets_total", peer=foreign.address) == 0,
                "a reset between non-nginx processes was counted")
    except AssertionError:
        if daemon:
            print(daemon.output()[-3000:])
        raise
    finally:
        if daemon:
            daemon.stop()
        nginx.cleanup()
        foreign.close()
        bad.close()


if __name__ == "__main__":
    h.run_test(body)
