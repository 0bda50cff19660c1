#!/usr/bin/env python3
"""`scripts/demo --duration 25 --no-tui`, as CI runs it: exit 0 having attributed at
least one reset to a location of the demo's nginx (its own check, and ours on the
printed table), without showing the query strings of the load, and leaving nothing
behind: no nginx, daemon, upstream or load process it started, no temp dir."""

import os
import re
import subprocess
import sys
import time

import harness as h

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def body(args, nginx_bin):
    env = dict(os.environ, NGXWATCH_BIN=os.path.abspath(args.ngxwatch))
    r = subprocess.run([os.path.join(ROOT, "scripts", "demo"), "--duration", "25", "--no-tui"],
                       capture_output=True, text=True, timeout=180, env=env, cwd=ROOT)
    out = r.stdout + r.stderr
    print(out[-4000:])
    h.check(r.returncode == 0, f"scripts/demo exited {r.returncode}")
    m = re.search(r"demo: working in (\S+)", out)
    h.check(m, "the demo does not say where it works")
    tmp = m.group(1)
    # The table of `top --once`: a row of an upload-service upstream with a location.
    rows = [l for l in out.splitlines()
            if re.match(r"^(upload|api|report)_backend\s", l)]
    h.check(any("/upload/" in l or "/api/" in l for l in rows),
            f"no attributed row in the printed table:\n{out}")
    h.check(re.search(r"demo: OK: [1-9]\d* resets attributed", out), "the demo's own check")
    h.check("demo-secret" not in out and "alice" not in out, "a query string was printed")

    # The same master may be named again (suggest says which config it judged against).
    pids = list(dict.fromkeys(int(p) for p in re.findall(r"(?:master|daemon pid|client load pid) (\d+)", out)))
    h.check(len(pids) == 3, f"started pids not reported: {pids}")
    time.sleep(0.5)
    left = [p for p in pids if alive(p)]
    h.check(not left, f"processes left behind: {left}")
    h.check(not os.path.exists(tmp), f"temp dir {tmp} left behind")
    stray = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if tmp in cmd:
                stray.append(f"{entry}: {cmd}")
    h.check(not stray, "processes of the demo still run:\n" + "\n".join(stray))


if __name__ == "__main__":
    h.run_test(body)
