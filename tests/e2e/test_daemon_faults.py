"""Faults the daemon must report as one clear line and a non-zero exit, and a clean
detach on SIGINT (no BPF program of ours left in the kernel)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time

import harness as h


def run_daemon(argv, user=None, timeout=20):
    cmd = [*argv]
    if user:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
               "--inh-caps=-all", "--bounding-set=-all", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def our_programs():
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True)
    names = {"btf_receive_reset", "btf_send_reset", "btf_set_state", "tp_receive_reset"}
    return [p for p in json.loads(out.stdout or "[]") if p.get("name") in names]


def body(args, _nginx):
    # A busy metrics port.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = run_daemon([args.ngxwatch, "run", "--listen", f"127.0.0.1:{port}"])
    h.check(r.returncode != 0, "a busy port must fail the daemon")
    errors = [line for line in r.stdout.splitlines() + r.stderr.splitlines() if " error " in line]
    h.check(len(errors) == 1 and f"cannot listen on 127.0.0.1:{port}" in errors[0]
            and "Address already in use" in errors[0], f"want one clear line, got: {r.stdout}{r.stderr}")

    # No privileges.
    if shutil.which("setpriv"):
        r = run_daemon([args.ngxwatch, "run", "--listen", "127.0.0.1:0"], user="nobody")
        h.check(r.returncode != 0, "an unprivileged daemon must fail")
        h.check("missing capability" in r.stdout + r.stderr and "CAP_BPF" in r.stdout + r.stderr,
                f"want the missing capability named, got: {r.stdout}{r.stderr}")

    # A malformed listen address.
    r = run_daemon([args.ngxwatch, "run", "--listen", "nonsense"])
    h.check(r.returncode != 0 and "expected HOST:PORT" in r.stdout + r.stderr,
            f"malformed --listen: {r.stdout}{r.stderr}")

    # A malformed config file: one line naming the file, the line and the key.
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write('log-level = "info"\n[run]\nlisten = "127.0.0.1:9617"\nbogus-key = 3\n')
        conf = f.name
    r = run_daemon([args.ngxwatch, "--config", conf, "run"])
    os.unlink(conf)
    out = (r.stdout + r.stderr).strip().splitlines()
    h.check(r.returncode != 0 and len(out) == 1 and f"{conf}:4:" in out[0] and "bogus-key" in out[0],
            f"malformed config file: {out}")

    # SIGINT detaches cleanly: exit 0 and none of its programs left loaded. (Other
    # ngxwatch instances may run on the host: only the programs that appear are ours.)
    before = {p["id"] for p in our_programs()}
    port = h.free_port()
    p = subprocess.Popen([args.ngxwatch, "run", "--listen", f"127.0.0.1:{port}"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        h.wait_until(lambda: {p["id"] for p in our_programs()} - before, 20, what="programs loaded")
        mine = {p["id"] for p in our_programs()} - before
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
    h.check(rc == 0, f"exit code after SIGINT: {rc}")
    time.sleep(0.2)
    left = mine & {p["id"] for p in our_programs()}
    h.check(not left, f"programs left after exit: {left}")


if __name__ == "__main__":
    h.run_test(body)
