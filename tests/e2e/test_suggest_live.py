#!/usr/bin/env python3
"""`ngxwatch suggest` against the running daemon: the closed-loop test's nginx and
misbehaving backends (keepalive race, a backend slower than a 1 s proxy_read_timeout,
bodies over client_max_body_size 1k) under a daemon with --api-socket; the same load;
then
- `suggest --api-socket S --json` returns the three verified suggestions with the
  measured numbers as evidence (the closed-loop test's checks), rooted at our nginx;
- the text output is the same patch (`+keepalive_timeout 900ms;` ...);
- `top --once --json`: our /slow/ row carries the read-timeout suggestion with its diff;
- top in tmux: filter to /slow/, d shows the diff (@@ and the directive) full-screen,
  q goes back to the table, q again quits with 0;
- no daemon at the socket: one line on stderr, exit 2.
Rows and suggestions are filtered by this test's server name (other tests' nginx may
run on the host at the same time)."""

import json
import os
import subprocess
import tempfile
import time

import harness as h
import test_suggest_closed_loop as loop
from test_top_tmux import Tmux

SERVER = "suggest.live.test"


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=90)


def suggest(args, sock, *extra):
    return run([args.ngxwatch, "suggest", "--api-socket", sock, *extra])


def ours(report, nginx):
    """Our suggestions (the daemon advises on the master the measurements are about)."""
    h.check(report["root"] == nginx.dir, f"report is about another nginx: {report['root']}")
    return report


def wait_for_report(args, sock, nginx):
    """The daemon caches a report for 5 s: wait for one made after the load."""
    last = [None]

    def ready():
        r = suggest(args, sock, "--json")
        last[0] = r
        if r.returncode not in (0, 1) or not r.stdout:
            return False
        ids = {s["id"] for s in json.loads(r.stdout)["suggestions"]}
        return {"keepalive-timeout", "read-timeout", "body-size"} <= ids
    try:
        h.wait_until(ready, 20, interval=1, what="the daemon's three suggestions")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{last[0] and (last[0].stdout + last[0].stderr)}")
    return last[0]


def check_top(args, sock):
    r = run([args.ngxwatch, "top", "--once", "--json", "--api-socket", sock])
    h.check(r.returncode == 0, f"top --once --json: {r.stderr}")
    snap = json.loads(r.stdout)
    rows = [x for x in snap["rows"] if x["server"] == SERVER and x["location"] == "/slow/"]
    h.check(rows, f"no /slow/ row for {SERVER}: {[x['server'] for x in snap['rows']]}")
    s = rows[0]["suggestion"]
    h.check(s is not None and "proxy_read_timeout 2s" in s["title"] and "@@" in s["diff"]
            and "proxy_read_timeout 2s" in s["diff"] and "no upstream byte for 1.00 s" in s["evidence"],
            f"/slow/ row suggestion: {s}")
    print(f"  top --once --json: /slow/ row suggests: {s['title']}")


def check_tui(args, sock):
    tmux = Tmux(120, 40, f"{args.ngxwatch} top --api-socket {sock} --interval-ms 300",
                os.path.join(os.path.dirname(sock), "top-status"))
    try:
        tmux.wait_for(lambda s: SERVER[:10] in s or "/slow/" in s, "rows in top")
        tmux.keys("/")
        for ch in "/slow/":
            tmux.keys("-l", ch)
        tmux.keys("Enter")
        tmux.wait_for(lambda s: "filter: /slow/" in s.splitlines()[0], "the filter applied")
        tmux.keys("d")
        screen = tmux.wait_for(lambda s: "@@" in s and "+" in s and "proxy_read_timeout 2s" in s,
                               "the verified diff on d")
        if os.environ.get("NGXWATCH_SHOW_SCREENS"):
            print(screen)
        h.check("q/Esc/d back" in screen, f"no pager hint:\n{screen}")
        tmux.keys("q")
        tmux.wait_for(lambda s: "Enter detail" in s and "@@" not in s, "back to the table on q")
        h.check(tmux.exit_status() is None, "q in the suggestion screen quit top")
        tmux.keys("q")
        h.wait_until(lambda: tmux.exit_status() is not None, 5, what="top exits on q")
        h.check(tmux.exit_status() == "0", f"top exit status {tmux.exit_status()}")
        print("  top: d shows the verified diff full-screen, q goes back, q quits 0")
    finally:
        tmux.kill()


def body(args, nginx_bin):
    nginx, port, upstreams = loop.make_nginx(nginx_bin, SERVER)
    tmp = tempfile.mkdtemp(prefix="ngxwatch-suggest-live-")
    sock = os.path.join(tmp, "api.sock")
    daemon = None
    try:
        nginx.start()
        daemon = h.Daemon(args.ngxwatch, "--api-socket", sock)
        h.wait_until(lambda: os.path.exists(sock), 10, what="the API socket")
        st = loop.load(port, SERVER)
        h.check(st == {"ka": [502] * loop.KA_ROUNDS, "slow": [200, 504, 200, 504, 200],
                       "body": [200, 413, 413, 200, 413]}, f"statuses: {st}")
        time.sleep(loop.KA_IDLE + loop.KA_DELAY + 0.3)  # late closes of pooled connections

        r = wait_for_report(args, sock, nginx)
        h.check(r.returncode == 0, f"suggest --json exit {r.returncode}: {r.stderr}")
        report = ours(json.loads(r.stdout), nginx)
        loop.check_evidence(report)
        print("  suggest --api-socket --json: 3 verified suggestions with the measured numbers")

        r = suggest(args, sock)
        h.check(r.returncode == 0, f"suggest exit {r.returncode}: {r.stderr}")
        added = sorted(l[1:].strip() for l in r.stdout.splitlines()
                       if l.startswith("+") and not l.startswith("+++"))
        h.check("keepalive_timeout 900ms;" in added and "# evidence:" in r.stdout
                and "--- a/nginx.conf" in r.stdout, f"text report:\n{r.stdout}")
        print("  suggest --api-socket: the same patch as text")

        check_top(args, sock)
        check_tui(args, sock)

        gone = os.path.join(tmp, "nobody.sock")
        r = suggest(args, gone)
        h.check(r.returncode == 2 and r.stdout == "" and len(r.stderr.strip().splitlines()) == 1
                and "not reachable" in r.stderr, f"no daemon: exit {r.returncode}: {r.stderr}")
        print(f"  no daemon: exit 2: {r.stderr.strip()}")
        h.check(daemon.stop() == 0, "daemon exit status")
    except (AssertionError, OSError):
        print("---- nginx error log (tail)")
        print(nginx.error_log()[-3000:])
        if daemon:
            print("---- daemon log (tail)")
            print(daemon.output()[-3000:])
        raise
    finally:
        if daemon and daemon.proc.poll() is None:
            daemon.proc.kill()
        loop.cleanup(nginx, upstreams, tmp)


if __name__ == "__main__":
    h.run_test(body)
