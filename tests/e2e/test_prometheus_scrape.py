"""A real Prometheus scrapes a real daemon while an upstream resets nginx's connections:
the series arrive through Prometheus's HTTP API with the labels the daemon exports plus
job/instance, with the exact count, and the shipped rules (deploy/prometheus/) load and
record from them.

Root and nginx needed (the harness skips otherwise); SKIPPED when the `prometheus`
binary (Debian package prometheus) is not installed.
"""

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import harness as h

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES = os.path.join(ROOT, "deploy", "prometheus", "ngxwatch-rules.yml")
BATCH = 4  # two batches: Prometheus must see the counter rise between scrapes
BODY = 256 * 1024
WAIT = 30  # seconds, for every wait on Prometheus


class Prometheus:
    def __init__(self, binary, target, rules):
        self.dir = tempfile.mkdtemp(prefix="ngxwatch-prom-")
        self.port = h.free_port()
        conf = os.path.join(self.dir, "prometheus.yml")
        with open(conf, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files:
  - {json.dumps(rules)}
scrape_configs:
  - job_name: ngxwatch
    static_configs:
      - targets: [{json.dumps(target)}]
""")
        self.log_path = os.path.join(self.dir, "prometheus.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [binary, f"--config.file={conf}", f"--storage.tsdb.path={self.dir}/data",
             f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=1h"],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir)
        h.wait_until(self._ready, WAIT, interval=0.2, what="Prometheus /-/ready")

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"prometheus exited with {self.proc.returncode}:\n{self.output()}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                return r.status == 200
        return False

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.load(r)
        if body.get("status") != "success":
            raise AssertionError(f"Prometheus API {path} {params}: {body}")
        return body["data"]

    def query(self, promql):
        """Instant query -> list of (labels, float value)."""
        data = self.api("query", query=promql)
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def output(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def body(args, nginx_bin):
    prom_bin = shutil.which("prometheus")
    if not prom_bin:
        h.skip("prometheus is not installed (Debian package prometheus; scripts/setup)")
    bad = h.Upstream(h.resets_after_request, name="resetting")
    port = h.free_port()
    nginx = h.Nginx(nginx_bin, f"""
    client_max_body_size 10m;
    server {{
        listen 127.0.0.1:{port};
        server_name scrape.test;
        location /upload/reset {{ proxy_pass http://{bad.address}; }}
    }}""")
    daemon = prom = None
    try:
        nginx.start()
        daemon = h.Daemon(args.ngxwatch)
        target = f"127.0.0.1:{daemon.port}"
        prom = Prometheus(prom_bin, target, RULES)

        def target_up():
            active = prom.api("targets")["activeTargets"]
            return [t for t in active if t["scrapeUrl"].startswith(f"http://{target}/")
                    and t["health"] == "up"]
        h.wait_until(target_up, WAIT, interval=0.25, what=f"Prometheus target {target} up")

        selector = f'ngxwatch_resets_total{{side="upstream",origin="peer",peer="{bad.address}"}}'

        def prom_resets(want):
            rows = prom.query(selector)
            return rows if rows and sum(v for _, v in rows) >= want else None

        statuses = [h.post(port, "/upload/reset", BODY) for _ in range(BATCH)]
        h.check(statuses == [502] * BATCH, f"resetting upstream should give 502s: {statuses}")
        h.wait_until(lambda: prom_resets(BATCH), WAIT, interval=0.25,
                     what=f"{BATCH} resets in Prometheus")
        statuses = [h.post(port, "/upload/reset", BODY) for _ in range(BATCH)]
        h.check(statuses == [502] * BATCH, f"resetting upstream should give 502s: {statuses}")
        n = 2 * BATCH
        h.wait_until(lambda: prom_resets(n), WAIT, interval=0.25, what=f"{n} resets in Prometheus")
        time.sleep(2.5)  # two more scrapes: the value must stay exact, not grow
        rows = prom.query(selector)

        # What the daemon itself says is the truth Prometheus must carry unchanged.
        direct = [(l, v) for name, l, v in daemon.scrape()
                  if name == "ngxwatch_resets_total" and l.get("peer") == bad.address]
        h.check(len(direct) == 1 and direct[0][1] == n,
                f"the daemon should export exactly one series with {n} resets: {direct}")
        h.check(len(rows) == 1, f"Prometheus should hold one series for {selector}: {rows}")
        labels, value = rows[0]
        h.check(value == n, f"Prometheus has {value} resets, want exactly {n}")
        want = dict(direct[0][0], job="ngxwatch", instance=target, __name__="ngxwatch_resets_total")
        h.check(labels == want, f"labels in Prometheus {labels}\n  want {want}")
        h.check(labels["location"] == "/upload/reset" and labels["server"] == "scrape.test",
                f"reset not attributed to scrape.test /upload/reset: {labels}")

        up = prom.query(f'up{{job="ngxwatch",instance="{target}"}}')
        h.check([v for _, v in up] == [1.0], f"up for the daemon: {up}")
        probe = prom.query('ngxwatch_probe_attached{probe="tcp_receive_reset"}')
        h.check([v for _, v in probe] == [1.0], f"tcp_receive_reset probe in Prometheus: {probe}")
        buckets = prom.query('ngxwatch_reset_request_bytes_count')
        h.check(buckets and buckets[0][1] >= n, f"reset request bytes histogram: {buckets}")

        # The shipped rules load and record from the real series.
        groups = prom.api("rules")["groups"]
        loaded = {r["name"]: r for g in groups for r in g["rules"]}
        h.check(len(groups) >= 2 and "NgxwatchUpstreamResetRateHigh" in loaded,
                f"deploy/prometheus rules not loaded: {sorted(loaded)}")
        broken = {k: r.get("lastError") for k, r in loaded.items() if r.get("health") == "err"}
        h.check(not broken, f"rules failing in Prometheus: {broken}")
        recorded = f'ngxwatch:upstream_resets:rate5m{{location="/upload/reset",instance="{target}"}}'
        rate = h.wait_until(lambda: [v for _, v in prom.query(recorded) if v > 0], WAIT,
                            interval=0.5, what=f"{recorded} > 0")
        print(f"Prometheus: {n} resets with labels {labels}; recorded rate {rate[0]:.3f}/s")
        rc = daemon.stop()
        daemon = None
        h.check(rc == 0, f"ngxwatch exit code {rc} after SIGTERM")
    except (AssertionError, urllib.error.URLError, OSError) as e:
        if daemon:
            print(daemon.output()[-3000:])
        if prom:
            print(prom.output()[-3000:])
        raise AssertionError(str(e)) from e
    finally:
        if prom:
            prom.stop()
        if daemon:
            daemon.stop()
        nginx.cleanup()
        bad.close()


if __name__ == "__main__":
    h.run_test(body)
