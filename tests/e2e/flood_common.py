"""A reset flood on nginx's upstream sockets, measured against the kernel's own count.

Used by tests/e2e/test_reset_flood.py (a CI-sized flood with assertions) and by
bench/flood.py (the 1,000,000-reset figures). Everything runs in a network namespace
of its own, so the kernel's per-namespace TCP counters count this flood and nothing
else on the host; the daemon stays in the host namespace (tracepoints are global).

- the upstream (flood_load.c, compiled here) accepts, reads the request and closes
  with SO_LINGER 0: exactly one RST per connection, and it counts them;
- nginx (several workers) proxies every request to it over a new connection: each
  request is one RST received on an nginx upstream socket and one 502;
- the client keeps CONC keepalive connections to nginx busy until N requests are done;
- meanwhile a prober scrapes /metrics and asks the API (`top --once --json`) every
  half second, timing both, and samples the daemon's RSS.

The kernel's counts, as deltas over the flood in the namespace (/proc/net/netstat and
/proc/net/snmp read from inside it): TcpExtTCPAbortOnData counts each linger-0 close of
a connection with no unread data (`__tcp_close` -> `tcp_disconnect`, one RST each);
TcpOutRsts counts every RST the namespace sent. Nothing else in the namespace resets,
so both must equal the upstream's own count and ngxwatch_resets_total{side="upstream",
origin="peer"}.
"""

import os
import subprocess
import tempfile
import threading
import time

import harness as h

NGINX_PORT = 18080
UPSTREAM_PORT = 19090
SERVER = "flood.test"
HERE = os.path.dirname(os.path.abspath(__file__))


def compile_load(workdir):
    out = os.path.join(workdir, "flood_load")
    r = subprocess.run(["cc", "-O2", "-Wall", "-Werror", "-o", out, os.path.join(HERE, "flood_load.c")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"cannot compile flood_load.c: {r.stderr.strip()}")
    return out


class Netns:
    def __init__(self):
        self.name = f"ngxw-flood-{os.getpid()}"
        r = subprocess.run(["ip", "netns", "add", self.name], capture_output=True, text=True)
        if r.returncode != 0:
            h.skip(f"cannot create a network namespace: {r.stderr.strip()}")
        subprocess.run(["ip", "-n", self.name, "link", "set", "lo", "up"], check=True)

    def cmd(self, *argv):
        return ["ip", "netns", "exec", self.name, *argv]

    def counters(self):
        """{"TcpExt.TCPAbortOnData": n, "Tcp.OutRsts": n, ...} inside the namespace."""
        out = {}
        for path in ("/proc/net/netstat", "/proc/net/snmp"):
            lines = subprocess.run(self.cmd("cat", path), capture_output=True, text=True,
                                   check=True).stdout.splitlines()
            for names, values in zip(lines[::2], lines[1::2]):
                prefix, names = names.split(":", 1)
                for n, v in zip(names.split(), values.split(":", 1)[1].split()):
                    out[f"{prefix}.{n}"] = int(v)
        return out

    def close(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


class NsNginx(h.Nginx):
    """The harness's nginx, started inside the namespace (its workers inherit it)."""

    def __init__(self, netns, binary, http_body, workers):
        self.netns = netns
        super().__init__(binary, http_body, workers=workers)

    def _run(self, *args):
        return subprocess.run(self.netns.cmd(self.binary, "-p", self.dir, "-c", self.conf, *args),
                              capture_output=True, text=True, timeout=30)


def nginx_http_body():
    # No access or error log lines: a million 104 lines would measure the disk.
    return f"""
    upstream flood_backend {{ server 127.0.0.1:{UPSTREAM_PORT}; }}
    server {{
        listen 127.0.0.1:{NGINX_PORT};
        server_name {SERVER};
        access_log off;
        error_log /dev/null crit;
        keepalive_requests 100000000;  # the client does not follow "Connection: close"
        location /flood/ {{ proxy_pass http://flood_backend; }}
    }}"""


def sanitized(pid):
    """An ASan build (scripts/test runs the suite on one too): its shadow memory and
    quarantine make RSS say nothing about the daemon's own."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            return "libasan" in f.read()
    except OSError:
        return False


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) * 1024
    return out


class Prober(threading.Thread):
    """Scrapes /metrics and the API every `interval` s while the flood runs."""

    def __init__(self, daemon, ngxwatch, api_socket, interval=0.5):
        super().__init__(daemon=True)
        self.d, self.ngxwatch, self.api_socket, self.interval = daemon, ngxwatch, api_socket, interval
        self.metrics_s, self.api_s, self.failures, self.rss = [], [], [], []
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            t0 = time.monotonic()
            try:
                text = self.d.scrape_text()
                if "ngxwatch_resets_total" not in text and "ngxwatch_probe_attached" not in text:
                    self.failures.append("metrics: unexpected body")
                self.metrics_s.append(time.monotonic() - t0)
            except OSError as e:
                self.failures.append(f"metrics: {e}")
            t1 = time.monotonic()
            r = subprocess.run([self.ngxwatch, "top", "--once", "--json", "--api-socket", self.api_socket],
                               capture_output=True, text=True, timeout=10)
            if r.returncode == 0 and r.stdout.lstrip().startswith("{"):
                self.api_s.append(time.monotonic() - t1)
            else:
                self.failures.append(f"api: rc={r.returncode} {r.stderr.strip()[:200]}")
            self.rss.append(proc_status(self.d.proc.pid)["VmRSS"])
            self.done.wait(self.interval)


def pct(values, q):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def upstream_resets(samples):
    return h.metric_sum(samples, "ngxwatch_resets_total", side="upstream", origin="peer",
                        peer=f"127.0.0.1:{UPSTREAM_PORT}")


def run_flood(ngxwatch, nginx_bin, total, conc=64, workers=4, daemon_args=(), settle_s=60):
    """Runs the flood; returns a dict of figures (the caller asserts or prints)."""
    work = tempfile.mkdtemp(prefix="ngxwatch-flood-")
    load = compile_load(work)
    ns = Netns()
    up = nginx = daemon = prober = None
    try:
        up = subprocess.Popen(ns.cmd(load, "upstream", str(UPSTREAM_PORT)), stdout=subprocess.PIPE, text=True)
        h.check(up.stdout.readline().strip() == "ready", "flood upstream did not start")
        nginx = NsNginx(ns, nginx_bin, nginx_http_body(), workers).start()
        api_socket = os.path.join(work, "api.sock")
        daemon = h.Daemon(ngxwatch, "--api-socket", api_socket, *daemon_args)
        # One request first: the daemon has read nginx's config before the clock starts.
        warm = subprocess.run(ns.cmd(load, "client", str(NGINX_PORT), "1", "1"), capture_output=True,
                              text=True, timeout=30)
        h.check("502 1" in warm.stdout, f"warm-up request: {warm.stdout}{warm.stderr}")
        h.wait_until(lambda: upstream_resets(daemon.scrape()) == 1, 10, what="the warm-up reset")
        before = ns.counters()
        base = upstream_resets(daemon.scrape())
        prober = Prober(daemon, ngxwatch, api_socket)
        prober.start()
        t0 = time.monotonic()
        client = subprocess.run(ns.cmd(load, "client", str(NGINX_PORT), str(conc), str(total)),
                                capture_output=True, text=True, timeout=3600)
        duration = time.monotonic() - t0
        fields = client.stdout.split()
        got = dict(zip(fields[::2], (int(x) for x in fields[1::2])))
        h.check(client.returncode == 0 and got.get("sent") == total,
                f"flood client: {client.stdout}{client.stderr}")
        # Drained: the last RSTs are in the namespace's counters once every answer came.
        time.sleep(0.2)
        up.terminate()
        rsts = int(up.communicate(timeout=10)[0].split()[-1]) - 1  # not the warm-up's
        after = ns.counters()
        kernel = {k: after[k] - before.get(k, 0) for k in
                  ("TcpExt.TCPAbortOnData", "Tcp.OutRsts", "Tcp.EstabResets", "TcpExt.TCPAbortOnClose")}

        def caught_up():
            return upstream_resets(daemon.scrape()) - base >= kernel["TcpExt.TCPAbortOnData"]

        t_settle = time.monotonic()
        try:
            h.wait_until(caught_up, settle_s, interval=0.5, what="ngxwatch_resets_total to reach the kernel's count")
        except AssertionError:
            pass  # reported as a mismatch below
        settle = time.monotonic() - t_settle
        prober.done.set()
        prober.join(timeout=15)
        s = daemon.scrape()
        labels = [l for n, l, v in s if n == "ngxwatch_resets_total" and v > 0
                  and l.get("peer") == f"127.0.0.1:{UPSTREAM_PORT}"]
        return {
            "requests": total, "conc": conc, "workers": workers, "client": got,
            "duration_s": duration, "resets_per_s": total / duration, "catch_up_s": settle,
            "upstream_rsts": rsts, "kernel": kernel,
            "ngxwatch_resets": upstream_resets(s) - base,
            "ngxwatch_resets_by_labels": {tuple(sorted(l.items())): v for l in labels
                                          for v in [h.metric_value(s, "ngxwatch_resets_total", **l)]},
            "unlabelled_series": [l for l in labels if l.get("location") in ("", "(unknown)")],
            "events_dropped": h.metric_value(s, "ngxwatch_events_dropped_total"),
            "map_evictions": {l.get("map"): v for n, l, v in s if n == "ngxwatch_kernel_map_evictions_total"},
            "rss_peak_bytes": proc_status(daemon.proc.pid)["VmHWM"],
            "sanitized": sanitized(daemon.proc.pid),
            "rss_max_sampled": max(prober.rss or [0]),
            "metrics_latency_s": (pct(prober.metrics_s, 0.5), pct(prober.metrics_s, 0.99), max(prober.metrics_s or [0])),
            "api_latency_s": (pct(prober.api_s, 0.5), pct(prober.api_s, 0.99), max(prober.api_s or [0])),
            "probes": (len(prober.metrics_s), len(prober.api_s)),
            "probe_failures": prober.failures,
            "daemon_log_tail": daemon.output()[-2000:],
        }
    finally:
        if prober:
            prober.done.set()
        if daemon:
            daemon.stop()
        if nginx:
            nginx.cleanup()
        if up and up.poll() is None:
            up.kill()
        ns.close()
        subprocess.run(["rm", "-rf", work])


def report(f):
    k = f["kernel"]
    lines = [
        f"flood: {f['requests']} requests, {f['conc']} keepalive client connections, {f['workers']} nginx workers",
        f"  duration {f['duration_s']:.1f} s, {f['resets_per_s']:.0f} resets/s; daemon caught up {f['catch_up_s']:.1f} s after",
        f"  client: {f['client']}",
        f"  upstream's own count of linger-0 closes: {f['upstream_rsts']}",
        f"  kernel (netns deltas): TCPAbortOnData {k['TcpExt.TCPAbortOnData']}, OutRsts {k['Tcp.OutRsts']}, "
        f"EstabResets {k['Tcp.EstabResets']} (both ends of each), TCPAbortOnClose {k['TcpExt.TCPAbortOnClose']}",
        f"  ngxwatch_resets_total{{side=upstream,origin=peer}}: {f['ngxwatch_resets']:.0f}",
        f"  by labels: {f['ngxwatch_resets_by_labels']}",
        f"  ring drops (ngxwatch_events_dropped_total): {f['events_dropped']}",
        f"  map evictions: {f['map_evictions']}",
        f"  daemon RSS peak (VmHWM) {f['rss_peak_bytes'] / 2**20:.1f} MiB, max sampled VmRSS {f['rss_max_sampled'] / 2**20:.1f} MiB",
        "  /metrics latency p50/p99/max %.3f/%.3f/%.3f s" % f["metrics_latency_s"],
        "  API (top --once --json) latency p50/p99/max %.3f/%.3f/%.3f s" % f["api_latency_s"],
        f"  probes answered: metrics {f['probes'][0]}, api {f['probes'][1]}; failures {f['probe_failures'][:5]}",
    ]
    return "\n".join(lines)
