#!/usr/bin/env python3
"""`ngxwatch gate` around a bounded large-POST load against a real nginx, with its own
probes (no daemon running):

- a location whose upstream resets mid-body: exit 1, the verdict names the upstream,
  the location and the cause with the right count, the JUnit report (parsed by
  xml.etree) fails exactly that location with the evidence;
- the healthy location of the same nginx: exit 0, and the probes really saw the load
  (its request count in the JSON verdict equals the POSTs sent), so it cannot pass
  vacuously;
- --fail-on with the cause and a generous --max-client-errors still fails; with
  another cause it passes (the threshold, not just any failure, decides);
- a load command that exits 3 makes the gate exit 3; one that cannot be run, and an
  unknown --fail-on cause, are usage errors (exit 2, one line)."""

import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

import harness as h
import taxonomy_common as t

N = 4
SERVER = "gate.e2e.test"
BODY = 8 * 1024 * 1024
LOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gate_load.py")


def gate(args, *gate_args, load):
    cmd = [args.ngxwatch, "gate", *gate_args, "--", *load]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    print(f"---- {' '.join(cmd[1:4])}... -> {r.returncode}")
    return r


def load(port, path, n=N, exit_status=0):
    return [sys.executable, LOAD, "--port", str(port), "--path", path, "--host", SERVER,
            "-n", str(n), "--size", str(BODY), "--exit", str(exit_status)]


def explain(r):
    return f"exit {r.returncode}\nstdout:\n{r.stdout[-4000:]}\nstderr:\n{r.stderr[-2000:]}"


def upload_nginx(nginx_bin):
    """nginx with /upload/ streamed to an upstream that resets mid-body and /ok/ to a
    healthy one: (nginx, resetting upstream, healthy upstream, port)."""
    bad = h.Upstream(h.resets_mid_body(64 * 1024), name="resetting")
    good = h.Upstream(h.healthy, name="healthy")
    port = h.free_port()
    http = f"""
    client_max_body_size 50m;
    upstream backend_reset {{ server {bad.address}; }}
    upstream backend_ok {{ server {good.address}; }}
""" + t.server_block(port, SERVER, """
        proxy_request_buffering off;
        location /upload/ { proxy_pass http://backend_reset; }
        location /ok/     { proxy_pass http://backend_ok; }""")
    return h.Nginx(nginx_bin, http), bad, good, port


def body(args, nginx_bin):
    nginx, bad, good, port = upload_nginx(nginx_bin)
    tmp = tempfile.mkdtemp(prefix="ngxwatch-gate-")
    try:
        nginx.start()
        junit = os.path.join(tmp, "gate.xml")

        # A resetting upstream: exit 1, named.
        r = gate(args, "--junit", junit, load=load(port, "/upload/big"))
        h.check(r.returncode == 1, "a resetting upstream should fail the gate: " + explain(r))
        h.check(f"statuses: {' '.join(['502'] * N)}" in r.stdout,
                "the load should have seen 502s: " + explain(r))
        line = [l for l in r.stdout.splitlines() if "upstream_reset_sending_body:" in l]
        h.check(line and "backend_reset" in line[0] and SERVER in line[0] and "/upload/" in line[0]
                and f"upstream_reset_sending_body: {N} in send_request" in line[0],
                "the verdict should name backend_reset /upload/ upstream_reset_sending_body x4: "
                + explain(r))
        h.check("VERDICT: FAIL" in r.stdout and f"{N} client-visible errors" in r.stdout,
                "the verdict should say FAIL with the client-visible errors: " + explain(r))
        suite = ET.parse(junit).getroot()
        cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
        upload = cases.get((SERVER, "/upload/"))
        h.check(upload is not None, f"JUnit: no test case {SERVER} /upload/: {list(cases)}")
        failure = upload.find("failure")
        h.check(failure is not None and "backend_reset upstream_reset_sending_body" in failure.text
                and failure.get("type") == "upstream_reset_sending_body",
                f"JUnit: /upload/ should fail with the evidence: {ET.tostring(upload)[:800]}")
        h.check(suite.get("failures") == "1", f"JUnit: exactly one failing case: {suite.attrib}")

        # The healthy location: exit 0, and the probes saw every POST.
        r = gate(args, "--json", "--junit", junit, load=load(port, "/ok/big"))
        h.check(r.returncode == 0, "a healthy upstream should pass the gate: " + explain(r))
        v = json.loads(r.stdout)
        ok = [l for l in v["locations"] if l["server"] == SERVER and l["location"] == "/ok/"]
        h.check(v["verdict"] == "pass" and ok and ok[0]["requests"] == N
                and not ok[0]["failures"] and ok[0]["client_visible_errors"] == 0,
                f"the healthy verdict should count {N} requests at /ok/: {json.dumps(v)[:2000]}")
        cases = {(c.get("classname"), c.get("name")): c for c in ET.parse(junit).getroot().iter("testcase")}
        h.check((SERVER, "/ok/") in cases and cases[(SERVER, "/ok/")].find("failure") is None,
                f"JUnit: /ok/ should be a passing case: {list(cases)}")

        # The thresholds decide: --fail-on fails despite the allowance, another cause passes.
        r = gate(args, "--max-client-errors", "100", "--fail-on", "upstream_reset_sending_body",
                 load=load(port, "/upload/big", n=2))
        h.check(r.returncode == 1 and "(--fail-on upstream_reset_sending_body)" in r.stdout,
                "--fail-on upstream_reset_sending_body should fail: " + explain(r))
        r = gate(args, "--max-client-errors", "100", "--fail-on", "keepalive_race",
                 load=load(port, "/upload/big", n=2))
        h.check(r.returncode == 0 and "upstream_reset_sending_body: 2" in r.stdout,
                "under the thresholds the gate passes, and still reports: " + explain(r))

        # The load's own failure wins; usage errors are exit 2 with one line.
        r = gate(args, load=load(port, "/ok/big", n=1, exit_status=3))
        h.check(r.returncode == 3 and "the load command exited 3" in r.stdout,
                "a failing load command's status should be the gate's: " + explain(r))
        r = gate(args, load=["/nonexistent/load-tool"])
        h.check(r.returncode == 2 and "cannot run /nonexistent/load-tool" in r.stderr,
                "a load command that cannot run is a usage error: " + explain(r))
        r = gate(args, "--fail-on", "bogus_cause", load=["true"])
        h.check(r.returncode == 2 and 'unknown cause "bogus_cause"' in r.stderr
                and len(r.stderr.strip().splitlines()) == 1,
                "an unknown cause is one usage line: " + explain(r))
    except (AssertionError, OSError) as e:
        h.fail_with_logs(e, None, nginx, tail=3000)
    finally:
        nginx.cleanup()
        bad.close()
        good.close()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    h.run_test(body)
