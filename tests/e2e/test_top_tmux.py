#!/usr/bin/env python3
"""`ngxwatch top` against a daemon watching a real nginx with a resetting upstream.

- the local API: socket mode 0660; non-JSON, oversized (> 4 KiB) and unknown requests
  get an error reply and the server stays up (a valid request then works);
- `top --once --json`, field by field: header rates and totals, the row of our
  upstream/location/phase with totals and history, latest events with the request
  line redacted (the query string never appears), placeholder storms/temp_dirs/suggestion;
- `top --once` prints a table with that row;
- the full-screen view in a detached tmux session at 100x30: the row appears; j, s,
  / + filter + Enter, p, Enter (detail pane with the redacted request line, no query
  string), d (the suggestion screen), resize to 60x15 (still renders), q exits
  with status 0;
- no daemon: `top --once` prints one line saying so and how to start it, exits != 0;
  the full-screen view says so, retries, and recovers when the daemon comes back.

Series are scoped by this test's server and upstream names (other tests' nginx may run
on the same host at the same time).
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import harness as h

N = 6
SERVER = "top.e2e.test"
UPSTREAM = "top_reset_e2e"
SECRET = "SECRET4711"


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, **kw)


def api_exchange(path, data, shutdown=False):
    """Sends raw bytes, returns the first reply line (str) or None if the server closed."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(path)
        s.sendall(data)
        if shutdown:
            s.shutdown(socket.SHUT_WR)
        buf = b""
        while b"\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        return buf.split(b"\n", 1)[0].decode() if buf else None
    finally:
        s.close()


def check_api(path):
    mode = os.stat(path).st_mode & 0o777
    h.check(mode == 0o660, f"API socket mode {oct(mode)}, want 0o660")
    for name, data in [("non-JSON", b"hello there\n"),
                       ("oversized", b"{\"get\":\"" + b"x" * 5000 + b"\"}\n"),
                       ("oversized without newline", b"y" * 6000),
                       ("unknown", b"{\"get\":\"passwords\"}\n"),
                       ("not an object", b"[1,2,3]\n")]:
        line = api_exchange(path, data)
        h.check(line is not None, f"{name} request: no reply")
        reply = json.loads(line)
        h.check("error" in reply, f"{name} request: want an error reply, got {line[:200]}")
        # The server stays up: a valid request right after works.
        ok = json.loads(api_exchange(path, b"{\"get\":\"snapshot\"}\n"))
        h.check(ok.get("version") == 1, f"after the {name} request the API does not answer")
    print("  API: 0660; non-JSON, oversized, unknown -> error replies, server stays up")


def our_row(snap):
    rows = [r for r in snap["rows"] if r["upstream"] == UPSTREAM and r["server"] == SERVER]
    return rows


def check_snapshot(binary, sock, peer):
    r = run([binary, "top", "--once", "--json", "--api-socket", sock])
    h.check(r.returncode == 0, f"top --once --json exit {r.returncode}: {r.stderr}")
    h.check(SECRET not in r.stdout, "the query string appears in the snapshot")
    snap = json.loads(r.stdout)
    h.check(snap["version"] == 1, f"version {snap.get('version')}")
    hd = snap["header"]
    for k in ("resets_per_s", "upstream_errors_per_s", "client_errors_per_s"):
        h.check(set(hd[k]) == {"1s", "10s", "60s"}, f"header {k}: {hd[k]}")
        h.check(all(isinstance(v, (int, float)) and v >= 0 for v in hd[k].values()), f"{k}: {hd[k]}")
    # Our N resets within the last minute: at least N/60 per second over 60 s.
    h.check(hd["resets_per_s"]["60s"] >= N / 60 - 1e-9, f"resets 60s rate {hd['resets_per_s']}")
    h.check(hd["totals"]["resets"] >= N, f"header totals {hd['totals']}")
    h.check(hd["totals"]["upstream_errors"] >= N, f"header totals {hd['totals']}")
    h.check(hd["totals"]["client_errors"] >= N, f"header totals {hd['totals']}")
    h.check(hd["active_storms"] == 0, f"active_storms {hd['active_storms']}")
    h.check(isinstance(snap["dropped_events"], int), "dropped_events")
    h.check(snap["storms"] == [] and snap["temp_dirs"] == [] and snap["suggestion"] is None,
            "storms/temp_dirs/suggestion placeholders")
    rows = our_row(snap)
    h.check(len(rows) == 1, f"want one row for {UPSTREAM}, got {rows}")
    row = rows[0]
    h.check(row["location"] == "/upload/", f"location {row['location']!r}")
    h.check(row["phase"] == "read_header", f"phase {row['phase']!r}")
    # POSTs reset after their whole request reached the backend: each may have run.
    h.check(row["totals"] == {"events": 2 * N, "resets": N, "failures": N, "duplicate_risk": N,
                              "causes": {"upstream_reset_before_header": N}},
            f"row totals {row['totals']} (want {N} resets, {N} failures, {N} duplicate risk, "
            f"{N} upstream_reset_before_header)")
    h.check(len(row["history"]) == 60, f"history has {len(row['history'])} points")
    h.check(sum(row["history"]) == 2 * N, f"history sums to {sum(row['history'])}, want {2 * N}")
    h.check(row["rates"]["60s"] == 2 * N / 60, f"60 s rate {row['rates']}")
    h.check(row["suggestion"] is None, "row suggestion placeholder")
    h.check(0 < len(row["latest"]) <= 8, f"latest has {len(row['latest'])} events")
    kinds = {e["kind"] for e in row["latest"]}
    h.check(kinds == {"reset", "failure"}, f"latest kinds {kinds}")
    for e in row["latest"]:
        h.check(e["request"] == "POST /upload/x?<redacted>", f"request line {e['request']!r}")
        h.check(e["phase"] == "read_header", f"event phase {e['phase']}")
        h.check(e["peer"] == peer, f"event peer {e['peer']} want {peer}")
        h.check(e["age_s"] >= 0, f"age {e['age_s']}")
        if e["kind"] == "reset":
            h.check(e["side"] == "upstream" and e["origin"] == "peer", f"reset {e}")
            h.check(e["request_bytes"] > 0, f"reset request_bytes {e['request_bytes']}")
        else:
            h.check(e["cause"] == "upstream_reset_before_header", f"cause {e['cause']}")
            h.check(e["evidence"], "failure without evidence")
    print(f"  --once --json: header, row {UPSTREAM} /upload/ read_header {row['totals']}, redacted")

    r = run([binary, "top", "--once", "--api-socket", sock])
    h.check(r.returncode == 0, f"top --once exit {r.returncode}: {r.stderr}")
    line = [l for l in r.stdout.splitlines() if l.startswith(UPSTREAM)]
    h.check(line and "/upload/" in line[0] and "read_header" in line[0],
            f"top --once table has no row for {UPSTREAM}:\n{r.stdout}")
    h.check(SECRET not in r.stdout, "query string in the table")


class Tmux:
    def __init__(self, width, height, command, status_file):
        self.name = f"ngxwatch-e2e-{os.getpid()}"
        self.t = ["tmux", "-L", self.name, "-f", "/dev/null"]
        self.status_file = status_file
        # The shell records top's exit status, then the pane keeps its screen for a moment.
        r = run(self.t + ["new-session", "-d", "-s", "top", "-x", str(width), "-y", str(height),
                          f"{command}; echo $? > {status_file}.tmp && mv {status_file}.tmp "
                          f"{status_file}; sleep 30"])
        h.check(r.returncode == 0, f"tmux new-session: {r.stderr}")

    def exit_status(self):
        try:
            with open(self.status_file) as f:
                return f.read().strip()
        except OSError:
            return None

    def capture(self):
        return run(self.t + ["capture-pane", "-p", "-t", "top"]).stdout

    def keys(self, *keys):
        r = run(self.t + ["send-keys", "-t", "top", *keys])
        h.check(r.returncode == 0, f"send-keys {keys}: {r.stderr}")

    def wait_for(self, predicate, what, timeout=8):
        last = [""]

        def probe():
            last[0] = self.capture()
            return predicate(last[0])
        try:
            h.wait_until(probe, timeout, interval=0.1, what=what)
        except AssertionError as e:
            raise AssertionError(f"{e}\n---- screen:\n{last[0]}")
        return last[0]

    def kill(self):
        run(self.t + ["kill-server"])


def check_tui(binary, sock):
    tmux = Tmux(100, 30, f"{binary} top --api-socket {sock} --interval-ms 300",
                os.path.join(os.path.dirname(sock), "top-status"))
    try:
        screen = tmux.wait_for(lambda s: UPSTREAM in s and "/upload/" in s, "the row in top")
        if os.environ.get("NGXWATCH_SHOW_SCREENS"):
            print(screen)
        h.check("resets/s" in screen and "UPSTREAM" in screen, f"header/table head:\n{screen}")
        h.check(SECRET not in screen, "query string on screen")
        tmux.keys("j")
        tmux.keys("s")
        tmux.wait_for(lambda s: "sort: rate 60s" in s, "sort changed by s")
        tmux.keys("/")
        tmux.wait_for(lambda s: "filter:" in s, "the filter prompt")
        tmux.keys("-l", UPSTREAM)
        tmux.keys("Enter")
        screen = tmux.wait_for(lambda s: f"filter: {UPSTREAM}" in s.splitlines()[0],
                               "the filter applied")
        lines = screen.splitlines()
        head = next(i for i, l in enumerate(lines) if l.startswith("UPSTREAM"))
        table = [l for l in lines[head + 1:-1] if l.strip()]
        h.check(len(table) == 1 and table[0].startswith(UPSTREAM), f"filtered table:\n{screen}")
        tmux.keys("p")
        tmux.wait_for(lambda s: "PAUSED" in s, "pause")
        tmux.keys("Enter")
        screen = tmux.wait_for(lambda s: "detail (Enter to close)" in s, "the detail pane")
        h.check("POST /upload/x?<redacted>" in screen, f"detail pane without the request:\n{screen}")
        h.check(SECRET not in screen, f"the query string is on screen:\n{screen}")
        h.check("upstream_reset_before_header" in screen, f"detail without the cause:\n{screen}")
        tmux.keys("d")
        tmux.wait_for(lambda s: "q/Esc/d back" in s, "the suggestion screen")
        tmux.keys("d")
        tmux.keys("p")
        tmux.wait_for(lambda s: "PAUSED" not in s, "unpause")
        r = run(tmux.t + ["resize-window", "-t", "top", "-x", "60", "-y", "15"])
        h.check(r.returncode == 0, f"resize-window: {r.stderr}")
        screen = tmux.wait_for(lambda s: len(s.splitlines()) <= 15 and "ngxwatch top" in s
                               and UPSTREAM[:8] in s, "top at 60x15")
        h.check(max(len(l) for l in screen.splitlines()) <= 60, f"wider than 60:\n{screen}")
        if os.environ.get("NGXWATCH_SHOW_SCREENS"):
            print(screen)
        h.check(tmux.exit_status() is None, "top died after the resize")
        tmux.keys("q")
        status = h.wait_until(tmux.exit_status, 5, what="top to exit on q")
        h.check(status == "0", f"top exit status {status!r} after q")
        print("  tmux: row, j, s, / filter, p, Enter detail (redacted), d, 60x15, q -> 0")
    finally:
        tmux.kill()


def check_no_daemon(binary, tmp):
    sock = os.path.join(tmp, "nobody-home.sock")
    r = run([binary, "top", "--once", "--api-socket", sock])
    out = (r.stdout + r.stderr).strip()
    h.check(r.returncode != 0, "top --once without a daemon exits 0")
    h.check(len(out.splitlines()) == 1, f"want one line, got:\n{out}")
    h.check("not reachable" in out and sock in out and "sudo ngxwatch run" in out,
            f"the line does not say what is wrong and what to do: {out}")
    r = run([binary, "top", "--once", "--json", "--api-socket", sock])
    h.check(r.returncode != 0 and not r.stdout, "--once --json without a daemon")
    print(f"  no daemon: {out}")


def check_reconnect(binary, sock):
    """The full-screen view says the daemon is gone, retries, and recovers by itself."""
    tmux = Tmux(100, 30, f"{binary} top --api-socket {sock} --interval-ms 200",
                os.path.join(os.path.dirname(sock), "top-status-2"))
    daemon = None
    try:
        tmux.wait_for(lambda s: "not reachable" in s and "sudo ngxwatch run" in s, "the retry line")
        daemon = h.Daemon(binary, "--api-socket", sock)
        tmux.wait_for(lambda s: "not reachable" not in s and "resets/s" in s, "reconnect")
        tmux.keys("q")
        status = h.wait_until(tmux.exit_status, 5, what="top to exit on q")
        h.check(status == "0", f"top exit status {status!r} after q")
        print("  no daemon in the TUI: says so, retries, reconnects when it starts")
    finally:
        tmux.kill()
        if daemon:
            daemon.stop()


def body(args, nginx_bin):
    if not shutil.which("tmux"):
        h.skip("tmux is not installed (scripts/setup installs it)")
    binary = os.path.abspath(args.ngxwatch)
    tmp = tempfile.mkdtemp(prefix="ngxwatch-top-")
    sock = os.path.join(tmp, "api.sock")
    bad = h.Upstream(h.resets_after_request, name="resetting")
    port = h.free_port()
    nginx = h.Nginx(nginx_bin, f"""
    upstream {UPSTREAM} {{ server {bad.address}; }}
    server {{
        listen 127.0.0.1:{port};
        server_name {SERVER};
        location /upload/ {{ proxy_pass http://{UPSTREAM}; }}
    }}""")
    daemon = None
    try:
        check_no_daemon(binary, tmp)
        nginx.start()
        daemon = h.Daemon(binary, "--api-socket", sock)
        check_api(sock)
        st = [h.post(port, f"/upload/x?token={SECRET}", 64 * 1024, headers={"Host": SERVER})
              for _ in range(N)]
        h.check(st == [502] * N, f"statuses {st}")

        def settled():
            r = run([binary, "top", "--once", "--json", "--api-socket", sock])
            rows = our_row(json.loads(r.stdout)) if r.returncode == 0 else []
            return rows and rows[0]["totals"]["events"] >= 2 * N
        h.wait_until(settled, 10, what=f"{N} resets in the snapshot")
        time.sleep(1.1)  # the last second complete: history and rates include it
        check_snapshot(binary, sock, bad.address)
        check_tui(binary, sock)
        rc = daemon.stop()
        daemon = None
        h.check(rc == 0, f"ngxwatch exit code {rc}")
        h.check(not os.path.exists(sock), "the daemon left its API socket behind")
        check_reconnect(binary, sock)
    except AssertionError:
        if daemon:
            print(daemon.output()[-3000:])
        raise
    finally:
        if daemon:
            daemon.stop()
        nginx.cleanup()
        bad.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    h.run_test(body)
