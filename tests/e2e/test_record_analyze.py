"""`ngxwatch record` captures a real incident (with nginx's config) to a file;
`ngxwatch analyze` replays it offline, without root, through the same pipeline and
reports the same attribution. A corrupt trace is one clear error line, not a crash."""

import json
import os
import subprocess
import tempfile
import time

import harness as h

N = 6


def body(args, nginx_bin):
    bad = h.Upstream(h.resets_after_request, name="resetting")
    good = h.Upstream(h.healthy, name="healthy")
    port = h.free_port()
    nginx = h.Nginx(nginx_bin, f"""
    client_max_body_size 10m;
    upstream backend_reset {{ server {bad.address}; }}
    server {{
        listen 127.0.0.1:{port};
        server_name uploads.test;
        location /upload/ {{ proxy_pass http://backend_reset; }}
        location /health  {{ proxy_pass http://{good.address}; }}
    }}""")
    trace = tempfile.mktemp(prefix="ngxwatch-", suffix=".trace")
    rec = None
    try:
        nginx.start()
        rec = subprocess.Popen([args.ngxwatch, "record", "-o", trace, "--duration", "8"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # the recorder says when it is attached
            line = rec.stdout.readline()
            seen.append(line)
            if not line or "recording to" in line:
                break
        h.check("recording to" in seen[-1], f"record did not start: {''.join(seen)}")
        statuses = [h.post(port, "/upload/file?token=SECRET", 200_000) for _ in range(N)]
        h.check(statuses == [502] * N, f"statuses {statuses}")
        h.check(h.post(port, "/health", 10) == 200, "healthy location")
        out = "".join(seen) + rec.communicate(timeout=20)[0]
        h.check(rec.returncode == 0, f"record exited {rec.returncode}: {out}")
        os.chmod(trace, 0o644)

        # Offline, as an unprivileged user: no BPF, no root.
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            args.ngxwatch, "analyze", "--json", trace],
                           capture_output=True, text=True, timeout=60)
        h.check(r.returncode == 0, f"analyze failed: {r.stderr}")
        report = json.loads(r.stdout)
        ours = lambda row: row["server"] == "uploads.test"  # other nginx may run on the host
        failures = [f for f in report["failures"] if ours(f) and f["location"] == "/upload/"]
        h.check(len(failures) == 1, f"want one failure row for /upload/: {report['failures']}")
        f = failures[0]
        h.check((f["upstream"], f["server"], f["cause"], f["phase"], f["count"]) ==
                ("backend_reset", "uploads.test", "upstream_reset_before_header", "read_header", N),
                f"failure row {f}")
        h.check("SECRET" not in r.stdout and "?<redacted>" in f["example_request"],
                f"query strings must be redacted: {f['example_request']}")
        resets = [x for x in report["resets"] if ours(x) and x["location"] == "/upload/"]
        h.check(sum(x["count"] for x in resets) == N and all(x["peer"] == bad.address for x in resets),
                f"reset rows {resets}")
        h.check(not [x for x in report["resets"] if ours(x) and x["location"] == "/health"],
                "the healthy location must show no reset")
        text = subprocess.run([args.ngxwatch, "analyze", trace], capture_output=True, text=True)
        h.check("upstream_reset_before_header" in text.stdout and "backend_reset" in text.stdout,
                f"text report: {text.stdout}")

        # Corrupt traces: one error line naming the file and offset, exit 1, no crash.
        with open(trace, "rb") as fsrc:
            data = fsrc.read()
        for name, blob in [("truncated", data[:len(data) - 7]), ("garbage", b"NGXWTRC1" + os.urandom(64)),
                           ("not-a-trace", b"hello world\n")]:
            p = trace + "." + name
            with open(p, "wb") as fdst:
                fdst.write(blob)
            r = subprocess.run([args.ngxwatch, "analyze", p], capture_output=True, text=True, timeout=30)
            h.check(r.returncode == 1, f"{name}: exit {r.returncode}: {r.stderr}")
            lines = [l for l in r.stderr.splitlines() + r.stdout.splitlines() if "error" in l]
            h.check(len(lines) == 1 and p in lines[0] and "offset" in lines[0], f"{name}: {lines}")
            os.unlink(p)
    finally:
        if rec and rec.poll() is None:
            rec.kill()
        nginx.cleanup()
        bad.close()
        good.close()
        if os.path.exists(trace):
            os.unlink(trace)


if __name__ == "__main__":
    h.run_test(body)
