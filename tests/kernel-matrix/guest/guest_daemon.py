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
    """tests/e2e's daemon (guest_main gives it NGXWATCH_E2E_READY_TIMEOUT: an emulated
    CPU loads and verifies the BPF programs several times slower). One that does not
    come up is killed and raises DidNotStart with its log."""

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
    """The capture backends this kernel should offer: fentry where BPF trampolines can
    attach to kernel functions (x86-64 from 5.5; arm64 from 6.4, when ftrace direct
    calls came to arm64: 6.0's arm64 trampolines attach to BPF programs only, and
    Debian's 6.1 answers fentry on tcp_sendmsg with ENOTSUPP, 524), kprobes everywhere,
    tp_btf/sock_*_length from 6.3, syscalls tracepoints everywhere."""
    v = kernel_version(release)
    out = []
    if (machine == "x86_64" and v >= (5, 5)) or (machine == "aarch64" and v >= (6, 4)):
        out.append("fentry")
    out.append("kprobe")
    if v >= (6, 3):
        out.append("tracepoint")
    out.append("syscalls")
    return out


def offered_backends(binary):
    """The backends this ngxwatch's `run --capture-backend` accepts (None: no such flag)."""
    r = subprocess.run([binary, "run", "--help"], capture_output=True, text=True, timeout=60)
    text = r.stdout + r.stderr
    if "--capture-backend" not in text:
        return None
    m = re.search(r"--capture-backend\s+\S*\{([^}]*)\}", text)
    return [b.strip() for b in m.group(1).split(",")] if m else list(BACKENDS)


def backends_to_run(binary, release, machine):
    """(backends, why). `auto` first: its choice is then not run again explicitly."""
    offered = offered_backends(binary)
    if offered is None:
        return ["default"], "this ngxwatch has no --capture-backend: one run with its default"
    expected = expected_backends(release, machine)
    run = [b for b in expected if b in offered]
    absent = [b for b in expected if b not in offered]
    why = f"this kernel should offer {', '.join(expected)}"
    if absent:
        why += f"; not in this ngxwatch: {', '.join(absent)}"
    return ["auto", *run], why


def backend_env(backend):
    """NGXWATCH_CAPTURE_BACKEND for tests/e2e's harness ("" for the binary's default)."""
    return "" if backend == "default" else backend


def gauges(samples, name, label):
    """{label value: gauge value} of one labelled gauge family."""
    return {l.get(label, ""): v for n, l, v in samples if n == name}


def capture_backend_in_use(samples):
    on = [b for b, v in gauges(samples, "ngxwatch_capture_backend", "backend").items() if v == 1]
    return on[0] if len(on) == 1 else None


def verified_instructions(log_text):
    """{program: instructions the verifier processed}, from the daemon's load line
    (0 everywhere on kernels before 5.16, which do not report it)."""
    m = re.search(r"BPF programs loaded \(verified instructions\): (.*)", log_text)
    out = {}
    for item in (m.group(1).split(", ") if m else []):
        name, _, n = item.strip().rpartition(" ")
        if n.isdigit():
            out[name] = int(n)
    return out


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


_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT")  # a daemon log line; verifier lines have none
_LOAD_FAILED = re.compile(r"^\S+ \w+ .*prog '([^']+)': BPF program load failed: (.+)$", re.M)
_BEGIN = re.compile(r"prog '([^']+)': -- BEGIN PROG LOAD LOG --")


def verifier_blocks(log_text):
    """[(program, [verifier lines])] of each verifier log libbpf printed. A block ends
    at libbpf's END line or at the next daemon log line (a truncated log has no END)."""
    blocks, current = [], None
    for line in log_text.splitlines():
        m = _BEGIN.search(line) if _STAMP.match(line) else None
        if m:
            current = (m.group(1), [])
            blocks.append(current)
        elif current is not None and ("END PROG LOAD LOG" in line or _STAMP.match(line)):
            current = None
        elif current is not None:
            current[1].append(line)
    return blocks


# What an errno of BPF_PROG_LOAD means for the verifier.
_ERRNO_HINT = {"Argument list too long": "E2BIG: over the verifier's 1M-instruction budget"}


def verdicts(log_text):
    """One line per BPF program the kernel refused: its name, the errno text and the
    verifier's last word (the line before its `processed N insns` summary)."""
    last_word = {}
    for prog, lines in verifier_blocks(log_text):
        words = [l for l in lines if l.strip() and not l.startswith("processed ")]
        ends_normally = any(l.startswith("processed ") for l in lines)
        if words:
            last_word[prog] = words[-1].strip() if ends_normally else "verifier log cut short, no last line"
    out = []
    for prog, why in _LOAD_FAILED.findall(log_text):
        why = why.strip()
        detail = [d for d in (_ERRNO_HINT.get(why), last_word.get(prog)) if d]
        out.append(f"{prog}: {why}" + "".join(f" -- {d}" for d in detail))
    return out


def error_lines(log_text, limit=60, verifier_tail=8):
    """The lines of a daemon log that say what went wrong: error-looking lines, and of
    each verifier log libbpf printed, its last lines (the verdict)."""
    out = []
    tails = {prog: lines for prog, lines in verifier_blocks(log_text)}
    for line in log_text.splitlines():
        if not _STAMP.match(line):
            continue
        m = _BEGIN.search(line)
        if m:
            lines = tails.get(m.group(1), [])
            out.append(line)
            if len(lines) > verifier_tail:
                out.append(f"   ... {len(lines) - verifier_tail} verifier lines above ...")
            out += [f"   {l}" for l in lines[-verifier_tail:]]
        elif _ERROR.search(line):
            out.append(line)
    return out[-limit:]
