#!/usr/bin/env python3
"""The example CI workflow in deploy/ci/ does what it says, run for real:

- github-actions.yml and gitlab-ci.yml parse, and their gate step is
  deploy/ci/release-gate.sh (the script this test runs: no second copy of the steps);
- release-gate.sh on a rendered config that is lint-clean at warning level, with a real
  nginx whose /upload/ streams 8 MiB POSTs to a healthy upstream: exit 0, lint.sarif is
  SARIF 2.1.0 with no results, the JUnit report passes the /upload/ case and says the
  probes saw every POST;
- the same script against /bad-upload/, whose upstream resets mid-body: exit 1, the
  JUnit case of /bad-upload/ fails with upstream_reset_sending_body;
- a config with a lint warning (default client_max_body_size): the script stops at
  the lint step with exit 1 and never runs the gate."""

import json
import os
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import harness as h

try:
    import yaml
except ImportError:  # python3-yaml, installed by scripts/setup
    yaml = None

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CI = os.path.join(ROOT, "deploy", "ci")
SCRIPT = os.path.join(CI, "release-gate.sh")
SERVER = "release.ci.test"
POSTS = 4


def check_workflows():
    if yaml is None:
        h.skip("python3-yaml is not installed (scripts/setup installs it)")
    with open(os.path.join(CI, "github-actions.yml")) as f:
        gh = yaml.safe_load(f)
    steps = [s for job in gh["jobs"].values() for s in job["steps"]]
    runs = [s.get("run", "") for s in steps]
    h.check(any(r.startswith("deploy/ci/release-gate.sh ") for r in runs),
            f"the GitHub workflow should run deploy/ci/release-gate.sh: {runs}")
    uses = [s.get("uses", "") for s in steps]
    h.check(any("upload-sarif" in u for u in uses) and any("junit" in u for u in uses),
            f"the GitHub workflow should publish the SARIF and the JUnit report: {uses}")
    with open(os.path.join(CI, "gitlab-ci.yml")) as f:
        gl = yaml.safe_load(f)
    job = gl["release-gate"]
    h.check(any(l.startswith("deploy/ci/release-gate.sh ") for l in job["script"]),
            f"the GitLab job should run deploy/ci/release-gate.sh: {job['script']}")
    h.check(job["artifacts"]["reports"]["junit"] == "ngxwatch-report/gate-junit.xml",
            "the GitLab job should report the gate's JUnit file")


def rendered_config(nginx_dir, temp_dir, port, good, bad, body_size="50m"):
    """A config as a release would render it, clean at lint's warning level: streamed
    uploads, raised timeouts, upstream keepalive used, temp paths off the root fs."""
    return f"""worker_processes 2;
worker_rlimit_nofile 4096;
pid {nginx_dir}/nginx.pid;
error_log {nginx_dir}/logs/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log {nginx_dir}/logs/access.log;
    client_body_temp_path {temp_dir}/client_body;
    proxy_temp_path {temp_dir}/proxy;
    fastcgi_temp_path {temp_dir}/fastcgi;
    uwsgi_temp_path {temp_dir}/uwsgi;
    scgi_temp_path {temp_dir}/scgi;
    upstream upload_ok {{ server {good.address}; keepalive 8; }}
    upstream upload_bad {{ server {bad.address}; keepalive 8; }}
    limit_conn_zone $binary_remote_addr zone=uploads:1m;
    server {{
        listen 127.0.0.1:{port};
        server_name {SERVER};
        client_max_body_size {body_size};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_request_buffering off;
        proxy_send_timeout 300s;
        proxy_read_timeout 300s;
        location /upload/ {{ limit_conn uploads 16; proxy_pass http://upload_ok; }}
        location /bad-upload/ {{ limit_conn uploads 16; proxy_pass http://upload_bad; }}
    }}
}}
"""


def release_gate(args, conf, url, out):
    env = dict(os.environ, NGXWATCH=os.path.abspath(args.ngxwatch), OUT=out, POSTS=str(POSTS),
               POST_MIB="8", HOST_HEADER=SERVER)
    r = subprocess.run([SCRIPT, conf, url], capture_output=True, text=True, timeout=180, env=env)
    print(f"---- release-gate.sh {url} -> {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-1500:]}")
    return r


def junit_cases(path):
    return {(c.get("classname"), c.get("name")): c
            for c in ET.parse(path).getroot().iter("testcase")}


def body(args, nginx_bin):
    check_workflows()
    good = h.Upstream(h.healthy, name="healthy")
    bad = h.Upstream(h.resets_mid_body(64 * 1024), name="resetting")
    port = h.free_port()
    nginx = h.Nginx(nginx_bin, "")
    temp = tempfile.mkdtemp(prefix="ngxwatch-ci-temp-", dir="/dev/shm")
    out = tempfile.mkdtemp(prefix="ngxwatch-ci-out-")
    try:
        os.chmod(temp, 0o755)
        with open(nginx.conf, "w") as f:
            f.write(rendered_config(nginx.dir, temp, port, good, bad))
        nginx.start()
        base = f"http://127.0.0.1:{port}"

        r = release_gate(args, nginx.conf, base + "/upload/big", out)
        h.check(r.returncode == 0, f"the release gate should pass a healthy upload path: {r.returncode}")
        with open(os.path.join(out, "lint.sarif")) as f:
            sarif = json.load(f)
        h.check(sarif.get("version") == "2.1.0" and sarif["runs"][0].get("results") == [],
                f"lint.sarif should be SARIF 2.1.0 without results: {json.dumps(sarif)[:600]}")
        cases = junit_cases(os.path.join(out, "gate-junit.xml"))
        up = cases.get((SERVER, "/upload/"))
        h.check(up is not None and up.find("failure") is None
                and up.find("system-out").text.startswith(f"{POSTS} requests,"),
                f"JUnit: /upload/ should pass having seen {POSTS} requests: "
                f"{[(k, ET.tostring(v)[:300]) for k, v in cases.items()]}")

        r = release_gate(args, nginx.conf, base + "/bad-upload/big", out)
        h.check(r.returncode == 1, f"the release gate should fail a resetting upstream: {r.returncode}")
        h.check("upload_bad" in r.stdout and "upstream_reset_sending_body" in r.stdout,
                "the gate's verdict should name upload_bad and the cause")
        bad_case = junit_cases(os.path.join(out, "gate-junit.xml")).get((SERVER, "/bad-upload/"))
        h.check(bad_case is not None and bad_case.find("failure") is not None
                and bad_case.find("failure").get("type") == "upstream_reset_sending_body",
                "JUnit: /bad-upload/ should fail with upstream_reset_sending_body")

        # A lint warning stops the release before any load.
        lint_bad = os.path.join(out, "nginx-1m.conf")
        with open(lint_bad, "w") as f:
            f.write(rendered_config(nginx.dir, temp, port, good, bad, body_size="1m"))
        os.remove(os.path.join(out, "gate-junit.xml"))
        r = release_gate(args, lint_bad, base + "/upload/big", out)
        h.check(r.returncode == 1 and "lint failed" in r.stderr
                and not os.path.exists(os.path.join(out, "gate-junit.xml")),
                "a lint warning should stop the release gate before the load")
        with open(os.path.join(out, "lint.sarif")) as f:
            results = json.load(f)["runs"][0]["results"]
        h.check(results and all(x["level"] in ("warning", "error", "note") for x in results),
                f"lint.sarif should carry the warning: {results}")
    except (AssertionError, OSError) as e:
        h.fail_with_logs(e, None, nginx, tail=3000)
    finally:
        nginx.cleanup()
        good.close()
        bad.close()
        subprocess.run(["rm", "-rf", temp, out])


if __name__ == "__main__":
    h.run_test(body)
