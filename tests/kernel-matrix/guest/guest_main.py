#!/usr/bin/env python3
"""Runs inside a kernel-matrix guest (started by guest/init); the host's `boot` wrote
/matrix/guest.json. Two modes:

  loadcheck  starts a small nginx and `ngxwatch --log-level debug run ARGS` for a while,
             prints the daemon's log and its probe/backend gauges: for debugging a load
             failure (a verifier rejection) on this kernel.
  matrix     for each capture backend the daemon offers on this kernel, starts the daemon
             with it and runs the E2E subset (scenarios.py) against it; prints one
             `NGXWATCH-MATRIX-CELL {json}` line per backend for the host's table.

Everything is printed on the console, the only channel to the host; lines the host
parses start with NGXWATCH-MATRIX-.
"""

import json
import os
import platform
import shlex
import subprocess
import sys
import time

sys.path.insert(0, "/matrix/e2e")
sys.path.insert(0, "/matrix")

import guest_daemon as gd  # noqa: E402


def section(title):
    print(f"\n==== {title}", flush=True)


def loadcheck(cfg):
    binary = cfg["ngxwatch"]
    args = shlex.split(cfg.get("args", ""))
    seconds = cfg.get("seconds", 40)
    url = cfg.get("metrics_url", "http://127.0.0.1:9617/metrics")
    nginx = gd.start_idle_nginx()
    log_path = "/tmp/ngxwatch.log"
    cmd = [binary, "--log-level", "debug", "run", *args]
    section(f"starting: {shlex.join(cmd)} (for {seconds} s; nginx master {nginx.master_pid()})")
    started = time.monotonic()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    deadline = started + seconds
    answered = None
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(1)
        if answered is None and "ngxwatch_probe_attached" in gd.curl_metrics(url):
            answered = time.monotonic() - started
    up = time.monotonic() - started
    state = (f"still running after {up:.0f} s" if proc.poll() is None
             else f"EXITED with code {proc.returncode} after {up:.1f} s")
    state += (f", /metrics answered {answered:.0f} s after start" if answered is not None
              else ", /metrics never answered")
    metrics = gd.curl_metrics(url)
    if proc.poll() is None:
        rc = gd.terminate(proc)
        state += f"; exit code {rc} after SIGTERM"
    section("daemon log")
    with open(log_path, errors="replace") as f:
        log_text = f.read()
    print(log_text or "(empty)", end="" if log_text.endswith("\n") else "\n")
    section("curl /metrics | grep -E 'probe_attached|capture_backend'")
    print(gd.grep_gauges(metrics) or f"(no answer from /metrics: {metrics!r:.200})")
    section(f"daemon: {state}")
    errors = gd.error_lines(log_text)
    if errors:
        section("what went wrong (error lines; each verifier log's last lines)")
        print("\n".join(errors))
    refused = gd.verdicts(log_text)
    if refused:
        section("programs the kernel refused")
        print("\n".join(refused))
    nginx.cleanup()
    print(f"NGXWATCH-MATRIX-LOADCHECK {json.dumps({'state': state, 'refused': refused})}")
    return 0 if proc.returncode in (0, None) and "EXITED" not in state else 1


def matrix(cfg):
    import scenarios  # the E2E subset; imports tests/e2e

    binary = cfg["ngxwatch"]
    release, machine = platform.release(), platform.machine()
    backends, why = gd.backends_to_run(binary, release, machine)
    if cfg.get("backends"):
        backends, why = cfg["backends"], f"asked for {', '.join(cfg['backends'])}; {why}"
    section(f"kernel {release} {machine}: backends {backends} ({why})")
    print(f"NGXWATCH-MATRIX-BACKENDS {json.dumps({'run': backends, 'why': why})}", flush=True)
    rc = 0
    remaining = list(backends)
    while remaining:
        backend = remaining.pop(0)
        cell = scenarios.run_backend(binary, backend, cfg)
        if backend == "auto" and cell["in_use"]:
            # What auto chose is covered by this run.
            if cell["in_use"] in remaining:
                remaining.remove(cell["in_use"])
            cell["backend"] = f"auto={cell['in_use']}"
        print(f"NGXWATCH-MATRIX-CELL {json.dumps(cell)}", flush=True)
        rc |= not cell["green"]
    return rc


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    os.environ.setdefault("TMPDIR", "/tmp")
    # Loading and verifying the BPF programs on an emulated CPU: seconds, not 20 ms.
    os.environ["NGXWATCH_E2E_READY_TIMEOUT"] = str(cfg.get("ready_timeout", 240))
    mode = cfg["mode"]
    if mode == "loadcheck":
        return loadcheck(cfg)
    if mode == "matrix":
        return matrix(cfg)
    print(f"guest_main: unknown mode {mode!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
