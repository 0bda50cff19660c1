#!/usr/bin/env python3
"""Differential test: ngxwatch's location matcher against a real nginx.

A generated config with exact, prefix, ^~, regex, case-insensitive regex, nested
and named locations is served by a real nginx on a free loopback port. Every
location answers with its own id (body and an X-Loc header, also on error
responses). A few hundred seeded, random request targets (percent-encoding, "//",
"/./", "..", queries, fragments, mixed case) are sent to nginx and fed to
ngxwatch_match_location; any difference fails the test with a table of the
disagreements.

Runs as any user: nginx gets its own prefix, pid file, logs and temp paths in a
temporary directory. Exit 77 (skipped) when nginx is not installed.
"""

import argparse
import http.client
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

# (id, location line as written in the config, body lines, nested locations).
# The location "as written" is what ngxwatch_match_location prints.
LOCATIONS = [
    ("L1", "= /", []),
    ("L3", "= /exact", []),
    ("L4", "/exact", []),
    ("L5", "/static/", []),
    ("L6", "^~ /static/noregex/", []),
    ("L7", r"~ \.php$", []),
    ("L8", r"~* \.(jpg|png)$", []),
    ("L9", "/api/", [
        ("L10", "/api/v1/", []),
        ("L11", r"~ ^/api/.*\.json$", []),
        ("L12", "^~ /api/raw/", []),
        ("L13", "= /api/exact", []),
        ("L14", "/api/v1/deep/", [
            ("L15", r"~ \.xml$", []),
        ]),
    ]),
    ("L16", "~ ^/re/", [
        ("L17", r"~ \.txt$", []),
    ]),
    ("L18", "^~ /img/", []),
    ("L19", "/img/sub/", []),
    ("L20", "~* ^/case/", []),
    ("L21", "/CaSe/", []),
    ("L22", '"/sp ace/"', []),
    ("L23", "/dots.", []),
    ("L24", r"~ /\.hidden", []),
    ("L25", "@named", []),
    ("L26", "/redir/", "proxy"),
    ("L27", "/nested/", [
        ("L28", "^~ /nested/stop/", []),
        ("L29", r"~ \.cgi$", []),
    ]),
    ("L30", "= /exact-only", []),
    ("L31", '~ "^/d/[0-9]{2}$"', []),
    ("L32", "/a%b", []),
    ("L33", "~* /UPPER/", []),
]

SEGMENTS = [
    "api", "v1", "deep", "raw", "exact", "static", "noregex", "img", "sub", "re",
    "case", "CaSe", "CASE", "nested", "stop", "redir", "d", "12", "123", "a", "b",
    "x.php", "X.PHP", "y.JPG", "z.png", "f.json", "f.xml", "t.txt", "s.cgi",
    ".hidden", "dots.", "exact-only", "upper", "UPPER", "sp ace", "a%b", "",
    ".", "..", "...", "%2e", "%2E%2e", "%2F", "%2f%2e%2e", "%41pi", "%25", "%3F",
    "%23", "%00", "%zz", "%", "+", "~", "x", "y.txt",
]


def as_written(loc):
    """The location line as the matcher prints it (quotes removed)."""
    return loc.replace('"', "")


def flatten(locs, out):
    for ident, line, body in locs:
        out[ident] = as_written(line)
        if isinstance(body, list):
            flatten(body, out)
    return out


def render(locs, indent):
    pad = " " * indent
    text = ""
    for ident, line, body in locs:
        text += f"{pad}location {line} {{\n"
        text += f"{pad}    add_header X-Loc {ident} always;\n"
        if body == "proxy":
            # A location ending in '/' with proxy_pass: nginx answers "/redir" with
            # an automatic 301. Port 9 (discard) is closed, so requests get a 502.
            text += f"{pad}    proxy_pass http://127.0.0.1:9;\n"
        else:
            text += f"{pad}    return 200 \"{ident}\";\n"
            text += render(body, indent + 4)
        text += f"{pad}}}\n"
    return text


def write_config(tmp, port):
    for d in ("www", "body", "proxy", "fastcgi", "uwsgi", "scgi"):
        os.makedirs(os.path.join(tmp, d), exist_ok=True)
    conf = f"""
daemon off;
master_process on;
worker_processes 1;
error_log {tmp}/error.log warn;
pid {tmp}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {tmp}/www;
{render(LOCATIONS, 8)}    }}
}}
"""
    path = os.path.join(tmp, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def encode_some(rng, text):
    """Percent-encode a random subset of characters, in random hex case."""
    out = []
    for ch in text:
        if ch == " ":
            out.append("%20")
        elif ch not in "%/" and rng.random() < 0.12:
            h = "%02x" % ord(ch)
            out.append("%" + (h.upper() if rng.random() < 0.5 else h))
        else:
            out.append(ch)
    return "".join(out)


def flip_case(rng, text):
    if rng.random() < 0.15:
        return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)
    return text


def random_target(rng):
    n = rng.randint(1, 5)
    segs = [flip_case(rng, rng.choice(SEGMENTS)) for _ in range(n)]
    path = "/" + "/".join(segs)
    if rng.random() < 0.3:
        path += "/"
    if rng.random() < 0.15:
        i = rng.randrange(len(path))
        path = path[:i] + "/" + path[i:]  # a doubled or new slash
    path = encode_some(rng, path)
    if " " in path:
        path = path.replace(" ", "%20")
    if rng.random() < 0.2:
        path += "?q=" + rng.choice(["1", "/api/x.php", "..%2F", "a?b"])
    if rng.random() < 0.05:
        path += "#frag.php"
    return path


FIXED_TARGETS = [
    "/", "/exact", "/exact/", "/exactly", "/exact-only", "/exact-only/", "/static",
    "/static/", "/static/a.php", "/static/noregex/a.php", "/api", "/api/", "/api/x.json",
    "/api/v1/x.json", "/api/raw/x.json", "/api/exact", "/api/exact/", "/api/v1/deep/a.xml",
    "/api/v1/deep/a.php", "/re/a.txt", "/re/a.php", "/img/a.png", "/img/sub/a.png",
    "/img/sub/a", "/case/x", "/CASE/x", "/CaSe/x", "/sp%20ace/", "/sp%20ace/x.php",
    "/dots.", "/dots./x", "/.hidden", "/x/.hidden", "/redir", "/redir/", "/redir/x",
    "/Redir", "/nested/stop/x.php", "/nested/stop/x.cgi", "/nested/x.cgi", "/d/12", "/d/123",
    "/a%25b", "/a%b", "/UPPER/", "/upper/", "/%00", "/%zz", "/%", "/..", "/a/..", "/a/../..",
    "/a/./b/../../exact", "//exact", "/api//v1/", "/api/v1/..", "/api/%2E%2E/exact",
    "/x?y=1", "/exact?/api/", "/exact#x", "/api%2Fv1/", "/%3F/x.php",
]


def ask_nginx(port, target):
    """Returns (status, location id or None)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", target, headers={"Host": "localhost", "Connection": "close"})
        resp = conn.getresponse()
        resp.read()
        return resp.status, resp.getheader("X-Loc")
    finally:
        conn.close()


def nginx_answer(status, loc_id, ids):
    if loc_id is not None:
        loc = ids[loc_id]
        return f"(redirect) {loc}" if status == 301 else loc
    if status == 400:
        return "(invalid)"
    return "(none)"


def wait_for_port(port, proc, tmp):
    for _ in range(100):
        if proc.poll() is not None:
            log = open(os.path.join(tmp, "error.log")).read() if os.path.exists(
                os.path.join(tmp, "error.log")) else ""
            raise RuntimeError(f"nginx exited with {proc.returncode}:\n{log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nginx did not start listening within 10 s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ngxwatch", required=True, help="path to the built ngxwatch binary")
    ap.add_argument("--matcher", help="path to ngxwatch_match_location (default: from --ngxwatch)")
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--count", type=int, default=400)
    args = ap.parse_args()

    if not os.path.exists(args.nginx):
        print("SKIPPED: nginx not installed")
        return 77
    matcher = args.matcher or os.path.join(
        os.path.dirname(os.path.abspath(args.ngxwatch)), "daemon", "nginx",
        "ngxwatch_match_location")
    if not os.access(matcher, os.X_OK):
        print(f"FAIL: matcher helper not found at {matcher}")
        return 1

    rng = random.Random(args.seed)
    targets = FIXED_TARGETS + [random_target(rng) for _ in range(args.count)]
    ids = flatten(LOCATIONS, {})

    tmp = tempfile.mkdtemp(prefix="ngxwatch-locmatch-")
    os.chmod(tmp, 0o755)  # workers run as "nobody" when started by root
    proc = None
    try:
        port = free_port()
        conf = write_config(tmp, port)
        proc = subprocess.Popen([args.nginx, "-p", tmp, "-c", conf],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for_port(port, proc, tmp)

        nginx_says = []
        for t in targets:
            status, loc_id = ask_nginx(port, t)
            nginx_says.append((status, nginx_answer(status, loc_id, ids)))

        out = subprocess.run([matcher, conf], input="\n".join(targets) + "\n",
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            print(f"FAIL: {matcher} exited {out.returncode}: {out.stderr.strip()}")
            return 1
        ours = out.stdout.split("\n")[:len(targets)]
        if len(ours) != len(targets):
            print(f"FAIL: matcher printed {len(ours)} lines for {len(targets)} targets")
            return 1

        mismatches = [(t, s, n, o) for t, (s, n), o in zip(targets, nginx_says, ours) if n != o]
        answers = {n for _, n in nginx_says}
        print(f"{len(targets)} targets, {len(answers)} distinct nginx answers, "
              f"{len(mismatches)} mismatches")
        if mismatches:
            print(f"{'target':40} {'status':6} {'nginx':28} matcher")
            for t, s, n, o in mismatches[:60]:
                print(f"{t!r:40} {s:<6} {n:28} {o}")
            return 1
        # Guard against a vacuous pass (e.g. every request hitting one location).
        if len(answers) < 20:
            print(f"FAIL: only {len(answers)} distinct answers; the targets do not exercise the config")
            return 1
        print("PASS")
        return 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
