#!/usr/bin/env python3
"""`ngxwatch explain`: nginx's real error.log, joined line by line with what the kernel
saw for the same request, from a recorded trace (`ngxwatch record`) and from the live
daemon (`ngxwatch run`'s ring of recent failures over its API socket).

One real nginx, real misbehaving upstreams, one server:
  /upload/  an 8 MiB POST streamed (proxy_request_buffering off) to a backend that
            resets after 64 KiB of the body          -> upstream_reset_sending_body
  /api/     a 64 KiB POST the backend reads whole, then resets without answering
                                                       -> upstream_reset_before_header
  /report/  a GET the backend sits on past proxy_read_timeout 1s -> read_timeout
  /down/    a GET to a port nothing listens on        -> connect_refused
  /small/   a 10 KiB POST over client_max_body_size 1k -> body_too_large
nginx may log the two upload failures with the same words (`recv() failed (104)`);
explain must name them differently, and mark the fully sent POST as a duplicate-
processing risk. Every upstream-related line must be matched, with the right cause,
the status the client got, and (where a rule applies) the suggestion's nginx.conf:line.
The join is not vacuous: lines from before the daemon started come out "daemon not
running then", a line with another worker pid "no kernel record"."""

import json
import os
import re
import subprocess
import tempfile
import time

import harness as h

SERVER = "explain.test"
EXPECT = {  # request path -> (cause, what the client got)
    "/upload/big": ("upstream_reset_sending_body", 502),
    "/api/orders": ("upstream_reset_before_header", 502),
    "/report/slow": ("read_timeout", 504),
    "/down/x": ("connect_refused", 502),
    "/small/form": ("body_too_large", 413),
}
RULE = {"read_timeout": "read-timeout", "body_too_large": "body-size",
        "upstream_reset_sending_body": "backend-cut-body"}
SKIP_KINDS = {"body_buffered"}  # nginx's [warn] that it spooled a body: not a failure


def drive(port):
    hdr = {"Host": SERVER}
    got = [
        h.post(port, "/upload/big", 8 * 1024 * 1024, headers=hdr),
        h.post(port, "/api/orders?token=secret", 64 * 1024, headers=hdr),
        h.get(port, "/report/slow", headers=hdr),
        h.get(port, "/down/x", headers=hdr),
        h.post(port, "/small/form", 10 * 1024, headers=hdr),
        h.post(port, "/upload/big", 8 * 1024 * 1024, headers=hdr),
        h.post(port, "/api/orders?token=secret", 64 * 1024, headers=hdr),
    ]
    want = [502, 502, 504, 502, 413, 502, 502]
    h.check(got == want, f"statuses {got}, want {want}")


def explain(args, log_text, *opts):
    r = subprocess.run([args.ngxwatch, "explain", "-", "--json", *opts], input=log_text,
                       capture_output=True, text=True, timeout=120)
    h.check(r.returncode == 0, f"explain {opts} exited {r.returncode}: {r.stderr}")
    return json.loads(r.stdout)


def path_of(line):
    m = re.search(r'request: "[A-Z]+ ([^ ?"]+)', line)
    return m.group(1) if m else None


def check_explained(report, conf, phase):
    """Every upstream-related line matched, with the right cause and outcome."""
    causes = {}
    for e in report:
        if e["kind"] in SKIP_KINDS:
            h.check(not e["matched"] and e["reason"].startswith("not a failure"), f"{phase}: {e}")
            continue
        path = path_of(e["line"])
        h.check(path in EXPECT, f"{phase}: a line of another request: {e['line']}")
        cause, status = EXPECT[path]
        h.check(e["matched"], f"{phase}: not matched: {e['line']} -> {e.get('reason')}")
        k = e["kernel"]
        h.check(k["cause"] == cause, f"{phase}: {e['line']}\n  explained as {k['cause']}, want {cause}")
        h.check(k["client_status"] == status and not k["retried"],
                f"{phase}: {path}: client got {k['client_status']} (retried {k['retried']}), want {status}")
        h.check(k["server"] == SERVER and k["pid"] == e["pid"], f"{phase}: {k}")
        h.check("secret" not in e["line"] and 'host: "<redacted>"' in e["line"],
                f"{phase}: not redacted: {e['line']}")
        if cause == "upstream_reset_sending_body":
            h.check(k["request_total"] and k["request_bytes_sent"] < k["request_total"],
                    f"{phase}: sending-body failure with the body fully sent: {k}")
        if cause == "upstream_reset_before_header":
            h.check(k["request_total"] and k["request_bytes_sent"] >= k["request_total"]
                    and k["response_bytes"] == 0 and k["duplicate_risk"],
                    f"{phase}: before-header failure: {k}")
            h.check(any(s["id"] == "duplicate-risk" for s in k["suggestions"]),
                    f"{phase}: no duplicate-risk advice: {k['suggestions']}")
        if cause in RULE:
            fix = [s for s in k["suggestions"] if s["id"] == RULE[cause]]
            h.check(fix and fix[0]["file"] == conf and fix[0]["line"] > 0,
                    f"{phase}: {cause}: want suggestion {RULE[cause]} at {conf}:N: {k['suggestions']}")
        causes.setdefault(path, set()).add(k["cause"])
    h.check(set(causes) == set(EXPECT), f"{phase}: explained paths {sorted(causes)}, want {sorted(EXPECT)}")
    # The classic upload incident's two modes, named apart.
    h.check(causes["/upload/big"] != causes["/api/orders"], f"{phase}: {causes}")


def body(args, nginx_bin):
    cut = h.Upstream(h.resets_mid_body(64 * 1024), name="cut")
    reset = h.Upstream(h.resets_after_request, name="reset")
    slow = h.Upstream(h.sleeps_after_request(3), name="slow")
    down_port = h.free_port()  # nothing listens there
    port = h.free_port()
    nginx = h.Nginx(nginx_bin, f"""
    server {{
        listen 127.0.0.1:{port};
        server_name {SERVER};
        client_max_body_size 20m;
        location /upload/ {{ proxy_request_buffering off; proxy_pass http://{cut.address}; }}
        location /api/    {{ proxy_pass http://{reset.address}; }}
        location /report/ {{ proxy_read_timeout 1s; proxy_pass http://{slow.address}; }}
        location /down/   {{ proxy_pass http://127.0.0.1:{down_port}; }}
        location /small/  {{ client_max_body_size 1k; proxy_pass http://{reset.address}; }}
    }}""")
    trace = tempfile.mktemp(prefix="ngxwatch-explain-", suffix=".trace")
    sock = tempfile.mktemp(prefix="ngxwatch-explain-", suffix=".sock")
    daemon = None
    try:
        nginx.start()
        # ---- offline: record, then explain the log against the trace
        rec = subprocess.Popen([args.ngxwatch, "record", "-o", trace, "--duration", "10"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = rec.stdout.readline()
            seen.append(line)
            if not line or "recording to" in line:
                break
        h.check("recording to" in seen[-1], f"record did not start: {''.join(seen)}")
        drive(port)
        out = "".join(seen) + rec.communicate(timeout=30)[0]
        h.check(rec.returncode == 0, f"record exited {rec.returncode}: {out}")
        log_a = nginx.error_log()
        report = explain(args, log_a, "--trace", trace)
        check_explained(report, nginx.conf, "trace")
        text = subprocess.run([args.ngxwatch, "explain", "--trace", trace, "-"], input=log_a,
                              capture_output=True, text=True, timeout=120)
        h.check(text.returncode == 0 and "the upstream reset the connection while nginx was "
                "still sending the request body" in text.stdout, f"text output:\n{text.stdout}")
        if os.environ.get("NGXWATCH_EXPLAIN_SAVE_LOG"):
            with open(os.environ["NGXWATCH_EXPLAIN_SAVE_LOG"] + ".txt", "w") as f:
                f.write(text.stdout)

        # ---- live: the daemon's ring, for the lines written while it runs
        time.sleep(4)  # the lines above are then older than the daemon by > the tolerance
        daemon = h.Daemon(args.ngxwatch, "--api-socket", sock)
        drive(port)
        time.sleep(1.5)  # the last closes reach the daemon
        log_b = nginx.error_log()[len(log_a):]
        check_explained(explain(args, log_b, "--api-socket", sock), nginx.conf, "live")

        # Not vacuous: the same log's older lines, and a line of another worker pid.
        before = [e for e in explain(args, log_a, "--api-socket", sock)
                  if e["kind"] not in SKIP_KINDS]
        h.check(before and all(not e["matched"] and "daemon not running then" in e["reason"]
                               for e in before), f"lines from before the daemon: {before}")
        # Control: with an hour's tolerance the same old lines do find the later,
        # identical requests' failures, so what kept them apart above was the time.
        # (Per worker pid and path: as many match as the live phase has failures there.)
        wide = [e for e in explain(args, log_a, "--api-socket", sock, "--tolerance", "3600")
                if e["kind"] not in SKIP_KINDS]
        key = lambda e: (e["pid"], path_of(e["line"]))
        live_lines = [e for e in explain(args, log_b, "--api-socket", sock)
                      if e["kind"] not in SKIP_KINDS]
        # Counted by nginx connection (*N) and kernel record: one failure may have two lines.
        for k in {key(e) for e in wide}:
            old = {e["connection"] for e in wide if key(e) == k}
            records = {e["kernel"]["id"] for e in live_lines if key(e) == k}
            want = min(len(old), len(records))
            got = len({e["connection"] for e in wide if key(e) == k and e["matched"]})
            h.check(got == want, f"control with --tolerance 3600: {k}: {got} matched, want {want}")
        h.check(any(e["matched"] for e in wide), f"control matched nothing: {wide}")
        one = next(l for l in log_b.splitlines() if "upstream" in l and "[error]" in l)
        pid = re.search(r"\] (\d+)#(\d+): ", one)
        forged = one.replace(pid.group(0), f"] 999999#{pid.group(2)}: ")
        other = explain(args, forged + "\n", "--api-socket", sock)
        h.check(len(other) == 1 and not other[0]["matched"]
                and other[0]["reason"].startswith("no kernel record"), f"forged pid: {other}")

        # Bad input: exit 2 with one line.
        r = subprocess.run([args.ngxwatch, "explain", "/nonexistent/error.log", "--trace", trace],
                           capture_output=True, text=True, timeout=30)
        h.check(r.returncode == 2 and "/nonexistent/error.log" in r.stderr, f"missing file: {r}")
        rc = daemon.stop()
        daemon = None
        h.check(rc == 0, f"ngxwatch exit code {rc} after SIGTERM")
    except (AssertionError, OSError) as e:
        h.fail_with_logs(e, daemon, nginx, tail=4000)
    finally:
        if daemon:
            daemon.stop()
        if os.environ.get("NGXWATCH_EXPLAIN_SAVE_LOG"):  # real lines for the unit tests
            with open(os.environ["NGXWATCH_EXPLAIN_SAVE_LOG"], "w") as f:
                f.write(nginx.error_log())
        nginx.cleanup()
        for u in (cut, reset, slow):
            u.close()
        for p in (trace, sock):
            if os.path.exists(p):
                os.remove(p)


if __name__ == "__main__":
    h.run_test(body)
