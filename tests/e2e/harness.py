"""End-to-end test harness: a real nginx, real upstreams, the real daemon, real scrapes.

Nothing here mocks nginx or the kernel. Each test starts its own nginx with its own
prefix and config under a temp dir, upstreams that misbehave in one named way
(Python sockets on loopback), the `ngxwatch run` binary, and reads /metrics over HTTP.
All loops are bounded in count and time. Tests that cannot run (not root, no nginx)
print SKIPPED with the reason and exit 77, which CTest reports as skipped.
"""

import argparse
import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77


def skip(reason):
    """Exit 77 (CTest: skipped). With CI=true a skip is a failure: CI must run everything."""
    if os.environ.get("CI") == "true":
        print(f"FAIL (CI=true, a skip is a failure): {reason}")
        sys.exit(1)
    print(f"SKIPPED: {reason}")
    sys.exit(SKIP)


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--ngxwatch", required=True, help="path to the ngxwatch binary")
    return p.parse_args()


def require_root_and_nginx():
    if os.geteuid() != 0:
        skip("needs root (loads BPF programs)")
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if not nginx:
        skip("nginx is not installed (scripts/setup installs it)")
    return nginx


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def check(cond, message):
    if not cond:
        raise AssertionError(message)


# ---------------------------------------------------------------- upstreams


def read_http_request(conn, timeout=10.0):
    """Reads one request (headers and Content-Length body). Returns (head, body_len)."""
    conn.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, 0
        data += chunk
        if len(data) > 1 << 20:
            return None, 0
    head, rest = data.split(b"\r\n\r\n", 1)
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    need = int(m.group(1)) if m else 0
    got = len(rest)
    while got < need:
        chunk = conn.recv(min(1 << 20, need - got))
        if not chunk:
            break
        got += len(chunk)
    return head, got


def reset_socket(conn):
    """close() with SO_LINGER 0: the kernel sends RST instead of FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


class Upstream:
    """A backend on loopback; `behaviour(conn)` handles one accepted connection."""

    def __init__(self, behaviour, host="127.0.0.1", name="upstream"):
        self.name = name
        self.behaviour = behaviour
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(128)
        self.sock.settimeout(0.2)
        self.host, self.port = self.sock.getsockname()
        self.handled = 0
        self._handled_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        try:
            self.behaviour(conn)
            with self._handled_lock:
                self.handled += 1
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def expect_handled(self, n, what, timeout=5):
        """Checks that exactly `n` connections were handled. The handler thread counts
        a connection after it has answered, so the client may see the answer before the
        count moves: wait for `n`, then give a straggler a moment to show up."""
        wait_until(lambda: self.handled >= n, timeout, what=f"{what} ({n} handled)")
        time.sleep(0.1)
        check(self.handled == n, f"{what}: {self.handled} handled, want {n}")

    def close(self):
        self._stop.set()
        self.sock.close()
        self._thread.join(timeout=2)


def resets_after_request(conn):
    """Reads the whole request, then resets the connection (no response)."""
    head, _ = read_http_request(conn)
    if head is not None:
        reset_socket(conn)


def healthy(conn):
    """Reads the whole request and answers 200 with Connection: close."""
    head, n = read_http_request(conn)
    if head is None:
        return
    body = f"ok {n}\n".encode()
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
    conn.shutdown(socket.SHUT_WR)
    with contextlib.suppress(OSError):
        conn.settimeout(2)
        while conn.recv(65536):
            pass


def resets_mid_body(after_bytes):
    """Reads the request head and `after_bytes` of its body, then resets (linger 0):
    an upstream that gives up while nginx is still writing the body to it."""
    def behaviour(conn):
        conn.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        got = len(data.split(b"\r\n\r\n", 1)[1])
        while got < after_bytes:
            chunk = conn.recv(min(65536, after_bytes - got))
            if not chunk:
                return
            got += len(chunk)
        reset_socket(conn)
    return behaviour


def sleeps_after_request(seconds):
    """Reads the whole request, then says nothing for `seconds` and closes (FIN)."""
    def behaviour(conn):
        head, _ = read_http_request(conn)
        if head is None:
            return
        time.sleep(seconds)
    return behaviour


class KeepaliveBackend:
    """A keep-alive HTTP/1.1 backend with an idle timeout that loses the race on demand.

    It answers every request on a connection and keeps the connection open. When a
    connection has been idle for `idle_timeout` seconds the backend decides to close
    it, but only does so `close_delay` seconds later and without reading whatever
    arrived in between, as a busy server's idle sweeper does. A request nginx writes
    on the pooled connection inside that window meets a close: an RST (`mode="rst"`,
    close with SO_LINGER 0) or a FIN (`mode="fin"`, shutdown(SHUT_WR); the unread
    request is drained only after the FIN, so the kernel sends no RST).
    `raced` counts connections closed with a request waiting unread."""

    def __init__(self, idle_timeout, close_delay, mode):
        assert mode in ("rst", "fin")
        self.idle_timeout, self.close_delay, self.mode = idle_timeout, close_delay, mode
        self.raced = 0
        self.answered = 0
        self._lock = threading.Lock()

    def __call__(self, conn):
        while True:
            conn.settimeout(self.idle_timeout)
            try:
                first = conn.recv(1, socket.MSG_PEEK)
            except socket.timeout:
                self._close_idle(conn)
                return
            if not first:
                return
            head, n = read_http_request(conn)
            if head is None:
                return
            body = f"ok {n}\n".encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: keep-alive\r\n\r\n%s"
                         % (len(body), body))
            with self._lock:
                self.answered += 1

    def _close_idle(self, conn):
        time.sleep(self.close_delay)  # decided to close; gets to it a little later
        conn.setblocking(False)
        try:
            waiting = bool(conn.recv(1, socket.MSG_PEEK))
        except (BlockingIOError, OSError):
            waiting = False
        if waiting:
            with self._lock:
                self.raced += 1
        if self.mode == "rst":
            reset_socket(conn)
            return
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(5)
        with contextlib.suppress(OSError):
            while conn.recv(65536):
                pass


# ---------------------------------------------------------------- nginx


class Nginx:
    """A real nginx with its own prefix; `http_body` is the inside of http {}."""

    def __init__(self, binary, http_body, workers=2, extra_main=""):
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="ngxwatch-e2e-")
        os.chmod(self.dir, 0o755)  # workers run as nobody and write temp files here
        os.makedirs(os.path.join(self.dir, "logs"), exist_ok=True)
        self.conf = os.path.join(self.dir, "nginx.conf")
        self.workers = workers
        self.write_config(http_body, extra_main)

    def write_config(self, http_body, extra_main=""):
        self.http_body, self.extra_main = http_body, extra_main
        with open(self.conf, "w") as f:
            f.write(
                f"""worker_processes {self.workers};
pid {self.dir}/nginx.pid;
error_log {self.dir}/logs/error.log info;
{extra_main}
events {{ worker_connections 1024; }}
http {{
    access_log {self.dir}/logs/access.log;
    client_body_temp_path {self.dir}/client_body_temp;
    proxy_temp_path {self.dir}/proxy_temp;
{http_body}
}}
"""
            )

    def _run(self, *args):
        return subprocess.run([self.binary, "-p", self.dir, "-c", self.conf, *args],
                              capture_output=True, text=True, timeout=30)

    def start(self):
        r = self._run()
        if r.returncode != 0:
            raise AssertionError(f"nginx failed to start: {r.stderr.strip()}")
        wait_until(lambda: self.master_pid(), 10, what="nginx pid file")
        wait_until(lambda: len(self.worker_pids()) == self.workers, 10, what="nginx workers")
        return self

    def master_pid(self):
        try:
            with open(os.path.join(self.dir, "nginx.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def worker_pids(self, include_shutting_down=False):
        master = self.master_pid()
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == master and "worker process" in cmd:
                if include_shutting_down or "shutting down" not in cmd:
                    pids.append(int(entry))
        return pids

    @staticmethod
    def all_active_workers():
        """Active nginx workers of every master on the host (the gauge is host-wide)."""
        n = 0
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as f:
                        cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                n += cmd.startswith("nginx: worker process") and "shutting down" not in cmd
        return n

    def reload(self):
        old = set(self.worker_pids(include_shutting_down=True))
        r = self._run("-s", "reload")
        if r.returncode != 0:
            raise AssertionError(f"nginx reload failed: {r.stderr.strip()}")
        wait_until(lambda: len(set(self.worker_pids()) - old) == self.workers, 10, what="new workers")
        wait_until(lambda: not (set(self.worker_pids(include_shutting_down=True)) & old), 15,
                   what="old workers to exit")

    def stop(self):
        master = self.master_pid()
        if not master or not os.path.exists(f"/proc/{master}"):
            return
        children = self.worker_pids(include_shutting_down=True)
        os.kill(master, signal.SIGQUIT)  # graceful, like `nginx -s quit`
        with contextlib.suppress(AssertionError):
            wait_until(lambda: not any(os.path.exists(f"/proc/{p}") for p in [master, *children]),
                       10, what="nginx exit")
        for pid in [master, *children]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def error_log(self):
        with open(os.path.join(self.dir, "logs/error.log"), errors="replace") as f:
            return f.read()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------- the daemon


class Daemon:
    """`ngxwatch run` on its own port. NGXWATCH_E2E_READY_TIMEOUT: seconds it may take
    to serve /metrics (20 by default; tests/kernel-matrix's emulated CPUs need more)."""

    def __init__(self, binary, *extra):
        self.port = free_port()
        self.log_path = tempfile.mktemp(prefix="ngxwatch-daemon-", suffix=".log")
        self.log = open(self.log_path, "w")
        # The kernel matrix runs the suite once per capture backend the kernel offers.
        backend = os.environ.get("NGXWATCH_CAPTURE_BACKEND")
        if backend and not any(a.startswith("--capture-backend") for a in extra):
            extra = (*extra, "--capture-backend", backend)
        self.proc = subprocess.Popen(
            [binary, "--log-level", "debug", "run", "--listen", f"127.0.0.1:{self.port}", *extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(self._ready, float(os.environ.get("NGXWATCH_E2E_READY_TIMEOUT", "20")),
                   what="ngxwatch /metrics")

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"ngxwatch exited with {self.proc.returncode}:\n{self.output()}")
        try:
            return "ngxwatch_probe_attached" in self.scrape_text()
        except OSError:
            return False

    def scrape_text(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            c.request("GET", "/metrics")
            return c.getresponse().read().decode()
        finally:
            c.close()

    def scrape(self):
        return parse_metrics(self.scrape_text())

    def output(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        """SIGTERM must detach cleanly and exit 0."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise AssertionError("ngxwatch did not exit within 10 s of SIGTERM")
        self.log.close()
        return self.proc.returncode


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text format -> list of (name, {labels}, value)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise AssertionError(f"unparseable metrics line: {line!r}")
        labels = dict(_LABEL.findall(m.group(3) or ""))
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def metric_sum(samples, name, **labels):
    return sum(v for n, l, v in samples if n == name and all(l.get(k) == want for k, want in labels.items()))


def metric_value(samples, name, **labels):
    for n, l, v in samples:
        if n == name and l == labels:
            return v
    return None


# ---------------------------------------------------------------- client


def post(port, path, size, host="127.0.0.1", timeout=30, method="POST", headers=None):
    """One POST of `size` bytes; returns the status (or None if the connection broke)."""
    body = b"x" * size if size or method == "POST" else None
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request(method, path, body=body,
                  headers={"Content-Type": "application/octet-stream", **(headers or {})})
        r = c.getresponse()
        r.read()
        return r.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        c.close()


def get(port, path, host="127.0.0.1", timeout=30, headers=None):
    """One GET; returns the status (or None if the connection broke)."""
    return post(port, path, 0, host=host, timeout=timeout, method="GET", headers=headers)


def fail_with_logs(e, daemon, nginx, tail=4000):
    """In a test's `except (AssertionError, OSError) as e:`: prints the daemon's and
    nginx's log tails, then raises `e` as the AssertionError run_test reports."""
    if daemon:
        if daemon.proc.poll() is not None:
            print(f"---- ngxwatch exited with {daemon.proc.returncode}")
        print("---- daemon log (tail)")
        print(daemon.output()[-tail:])
    print("---- nginx error log (tail)")
    print(nginx.error_log()[-tail:])
    if isinstance(e, AssertionError):
        raise e
    raise AssertionError(f"{type(e).__name__}: {e}") from e


def run_test(body):
    """Runs `body(args, nginx_binary)`; prints PASS/FAIL, exits 0/1 (77 for skip)."""
    args = parse_args()
    nginx = require_root_and_nginx()
    name = os.path.basename(sys.argv[0])
    try:
        body(args, nginx)
    except AssertionError as e:
        print(f"FAIL {name}: {e}")
        sys.exit(1)
    print(f"PASS {name}")
