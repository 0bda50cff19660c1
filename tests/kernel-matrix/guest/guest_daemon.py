"""The daemon inside a kernel-matrix guest: which capture backends to run it with, how
to start it on an emulated CPU, and how to read what it says about itself."""

import re
import signal
import subprocess

import harness as h

BACKENDS = ("fentry", "kprobe", "tracepoint", "syscalls")

# Lines of a daemon log worth repeating at the end: load failures and the verifier's
# verdicts (libbpf prints the verifier log at debug level).
_ERROR = re.compile(r"error|fail|cannot|invalid|reject|too large|back-edge|unknown func|"
                    r"not supported|permission denied|unavailable|disabled|libbpf: prog",
                    re.IGNORECASE)


class DidNotStart(Exception):
    def __init__(self, why, log):
        super().__init__(why)
        self.log = log


class GuestDaemon(h.Daemon):
    """tests/e2e's daemon; under TCG loading and verifying the BPF programs takes
    25-35 s instead of a second or two. A daemon that does not come up is killed and
    raises DidNotStart with its log."""
    READY_TIMEOUT = 240

    def __init__(self, binary, *extra):
        try:
            super().__init__(binary, *extra)
        except AssertionError as e:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            raise DidNotStart(str(e).split("\n", 1)[0], self.output()) from None


def kernel_version(release):
    m = re.match(r"(\d+)\.(\d+)", release)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def expected_backends(release, machine):
    """The capture backends this kernel should offer (issue 8): fentry where BPF
    trampolines exist (x86-64 from 5.5, arm64 from 6.0), kprobes everywhere,
    tp_btf/sock_*_length from 6.3, syscalls tracepoints everywhere."""
    v = kernel_version(release)
    out = []
    if (machine == "x86_64" and v >= (5, 5)) or (machine == "aarch64" and v >= (6, 0)):
        out.append("fentry")
    out.append("kprobe")
    if v >= (6, 3):
        out.append("tracepoint")
    out.append("syscalls")
    return out


def accepts_capture_backend(binary):
    r = subprocess.run([binary, "run", "--help"], capture_output=True, text=True, timeout=60)
    return "--capture-backend" in (r.stdout + r.stderr)


def backends_to_run(binary, release, machine):
    """(backends, why). `auto` first: its choice is then not run again explicitly."""
    if not accepts_capture_backend(binary):
        return ["default"], "this ngxwatch has no --capture-backend: one run with its default"
    expected = expected_backends(release, machine)
    return ["auto", *expected], f"expected on {machine} {release}: {', '.join(expected)}"


def backend_args(backend):
    return [] if backend == "default" else ["--capture-backend", backend]


def gauges(samples, name, label):
    """{label value: gauge value} of one labelled gauge family."""
    return {l.get(label, ""): v for n, l, v in samples if n == name}


def capture_backend_in_use(samples):
    on = [b for b, v in gauges(samples, "ngxwatch_capture_backend", "backend").items() if v == 1]
    return on[0] if len(on) == 1 else None


def start_idle_nginx():
    """An nginx with one plain server, so the daemon finds a master and its workers."""
    port = h.free_port()
    nginx = h.Nginx(h.require_root_and_nginx(), f"""
    server {{ listen 127.0.0.1:{port}; location / {{ return 200 "ok\\n"; }} }}""", workers=1)
    return nginx.start()


def curl_metrics(url):
    r = subprocess.run(["curl", "-sS", "--max-time", "20", url], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else r.stderr.strip()


def grep_gauges(metrics_text):
    return "\n".join(line for line in metrics_text.splitlines()
                     if re.search(r"probe_attached|capture_backend", line))


def terminate(proc, timeout=20):
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return f"killed: no exit within {timeout} s of SIGTERM"


def error_lines(log_text, limit=60, verifier_tail=8):
    """The lines of a daemon log that say what went wrong: error-looking lines, and of
    each verifier log libbpf printed, its frame and last lines (the verdict)."""
    out, block = [], None
    for line in log_text.splitlines():
        if "BEGIN PROG LOAD LOG" in line:
            block = []
            out.append(line)
        elif block is not None and "END PROG LOAD LOG" in line:
            if len(block) > verifier_tail:
                out.append(f"   ... {len(block) - verifier_tail} verifier lines above ...")
            out += block[-verifier_tail:]
            out.append(line)
            block = None
        elif block is not None:
            block.append(line)
        elif _ERROR.search(line):
            out.append(line)
    return out[-limit:]
