"""`ngxwatch lint` as CI runs it: the real binary on the corpus in tests/data/lint.

Checks, per corpus config, the findings against NAME.expected and the exit code for
each --fail-on; validates --format json against tests/data/lint/lint-output.schema.json
(with a small validator for the schema subset used: type, required, properties,
additionalProperties, items, enum, minimum) and --format sarif against the SARIF 2.1.0
structure code-scanning UIs need; and lints the real `nginx -T` output of a config
written here, which must give the same findings as the files themselves.

No root needed. Exit 77 (skipped) when the binary is missing; the nginx -T part is
skipped alone when nginx is not installed.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.normpath(os.path.join(HERE, "..", "data", "lint"))
SCHEMA = os.path.join(CORPUS, "lint-output.schema.json")
# The corpus expectations for temp-path-on-root assume the unit test's fake
# filesystem; here that rule is checked on a config of its own, against os.stat.
HOST_DEPENDENT = "temp-path-on-root"

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}")
    return cond


# ---------------------------------------------------------------- JSON schema subset

TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def type_ok(value, t):
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, TYPES[t])


def validate(value, schema, path="$"):
    """Errors of `value` against `schema` (the subset of JSON Schema we use)."""
    errors = []
    t = schema.get("type")
    if t is not None:
        allowed = t if isinstance(t, list) else [t]
        if not any(type_ok(value, x) for x in allowed):
            return [f"{path}: expected {t}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in {schema['enum']}")
    if "minimum" in schema and type_ok(value, "number") and value < schema["minimum"]:
        errors.append(f"{path}: {value} < {schema['minimum']}")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{path}: missing required {key!r}")
        props = schema.get("properties", {})
        for key, sub in value.items():
            if key in props:
                errors += validate(sub, props[key], f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unexpected property {key!r}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += validate(item, schema["items"], f"{path}[{i}]")
    return errors


def self_test_validator(schema):
    """The validator must be able to fail, or the schema check proves nothing."""
    good = {"tool": "ngxwatch", "version": "1", "input": "x", "findings": [],
            "summary": {"error": 0, "warning": 0, "info": 0, "total": 0}}
    check(validate(good, schema) == [], "validator accepts a valid document")
    bad = json.loads(json.dumps(good))
    bad["findings"].append({"rule_id": "nope", "severity": "fatal", "file": "f", "line": -1,
                            "message": "m"})
    errs = validate(bad, schema)
    check(len(errs) == 4, f"validator rejects a bad finding (got {errs})")
    check(validate({"tool": "ngxwatch"}, schema) != [], "validator enforces required")


# ---------------------------------------------------------------- SARIF 2.1.0 structure

SARIF_LEVELS = {"none", "note", "warning", "error"}


def sarif_errors(doc):
    errs = []
    if doc.get("version") != "2.1.0":
        errs.append("version is not 2.1.0")
    if not isinstance(doc.get("$schema"), str):
        errs.append("$schema missing")
    runs = doc.get("runs")
    if not isinstance(runs, list) or not runs:
        return errs + ["runs missing or empty"]
    for r, run in enumerate(runs):
        driver = run.get("tool", {}).get("driver", {})
        if not isinstance(driver.get("name"), str) or not driver["name"]:
            errs.append(f"runs[{r}].tool.driver.name missing")
        rules = driver.get("rules", [])
        ids = []
        for i, rule in enumerate(rules):
            if not isinstance(rule.get("id"), str):
                errs.append(f"rules[{i}].id missing")
            for key in ("shortDescription", "help"):
                if not isinstance(rule.get(key, {}).get("text"), str):
                    errs.append(f"rules[{i}].{key}.text missing")
            level = rule.get("defaultConfiguration", {}).get("level", "warning")
            if level not in SARIF_LEVELS:
                errs.append(f"rules[{i}] default level {level}")
            ids.append(rule.get("id"))
        results = run.get("results")
        if not isinstance(results, list):
            errs.append(f"runs[{r}].results missing")
            continue
        for i, res in enumerate(results):
            where = f"runs[{r}].results[{i}]"
            if res.get("ruleId") not in ids:
                errs.append(f"{where}.ruleId {res.get('ruleId')!r} not in driver.rules")
            if "ruleIndex" in res and (not isinstance(res["ruleIndex"], int)
                                       or res["ruleIndex"] >= len(ids)
                                       or ids[res["ruleIndex"]] != res.get("ruleId")):
                errs.append(f"{where}.ruleIndex does not point at its rule")
            if res.get("level") not in SARIF_LEVELS:
                errs.append(f"{where}.level {res.get('level')!r}")
            if not isinstance(res.get("message", {}).get("text"), str):
                errs.append(f"{where}.message.text missing")
            locs = res.get("locations")
            if not isinstance(locs, list) or not locs:
                errs.append(f"{where}.locations missing")
                continue
            phys = locs[0].get("physicalLocation", {})
            uri = phys.get("artifactLocation", {}).get("uri")
            if not isinstance(uri, str) or not uri or " " in uri:
                errs.append(f"{where} artifactLocation.uri {uri!r}")
            line = phys.get("region", {}).get("startLine")
            if not isinstance(line, int) or line < 1:
                errs.append(f"{where} region.startLine {line!r}")
    return errs


# ---------------------------------------------------------------- running the binary

def lint(binary, *args):
    p = subprocess.run([binary, "lint", *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def expected(name):
    out = []
    with open(os.path.join(CORPUS, name + ".expected")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and not line.startswith(HOST_DEPENDENT + " "):
                out.append(line)
    return sorted(out)


def keys(doc, base=CORPUS):
    out = []
    for f in doc["findings"]:
        file = os.path.relpath(f["file"], base) if os.path.isabs(f["file"]) else f["file"]
        out.append(f"{f['rule_id']} {file}:{f['line']}")
    return sorted(out)


def corpus_names():
    return sorted(n[:-5] for n in os.listdir(CORPUS) if n.endswith(".conf"))


def test_corpus_json(binary, schema):
    for name in corpus_names():
        conf = os.path.join(CORPUS, name + ".conf")
        rc, out, err = lint(binary, conf, "--format", "json", "--fail-on", "none",
                            "--disable", HOST_DEPENDENT)
        try:
            doc = json.loads(out)
        except ValueError as e:
            check(False, f"{name}: output is not JSON ({e}): {out[:200]} {err}")
            continue
        errs = validate(doc, schema)
        check(not errs, f"{name}: JSON does not match the schema: {errs[:3]}")
        want = expected(name)
        check(keys(doc) == want, f"{name}: findings {keys(doc)} != expected {want}")
        config_error = any(f["rule_id"] == "config-error" for f in doc["findings"])
        check(rc == (2 if config_error else 0), f"{name}: --fail-on none exit {rc}")
        s = doc["summary"]
        check(s["total"] == len(doc["findings"]) == s["error"] + s["warning"] + s["info"],
              f"{name}: summary {s} does not add up")


def test_exit_codes(binary):
    k = os.path.join(CORPUS, "keepalive.conf")          # error + warning
    r = os.path.join(CORPUS, "rate_limit.conf")         # info only
    g = os.path.join(CORPUS, "good.conf")               # nothing
    base = ["--disable", HOST_DEPENDENT]
    cases = [
        (k, [], 1), (k, ["--fail-on", "error"], 1), (k, ["--fail-on", "warning"], 1),
        (k, ["--fail-on", "info"], 1), (k, ["--fail-on", "none"], 0),
        (r, [], 0), (r, ["--fail-on", "error"], 0), (r, ["--fail-on", "warning"], 0),
        (r, ["--fail-on", "info"], 1),
        (g, ["--fail-on", "info"], 0),
        (os.path.join(CORPUS, "missing_include.conf"), ["--fail-on", "none"], 2),
        (os.path.join(CORPUS, "syntax_error.conf"), [], 2),
        (os.path.join(CORPUS, "unreadable_include.conf"), [], 2),
    ]
    for conf, extra, want in cases:
        rc, out, err = lint(binary, conf, *base, *extra)
        check(rc == want, f"exit {rc} != {want} for {os.path.basename(conf)} {extra}: {err}")
    # Usage errors are 2 as well, never CLI11's own codes.
    for args in (["--format", "xml", g], ["--fail-on", "fatal", g], [], [g, "extra"],
                 ["--disable", "no-such-rule", g], [g, "--no-such-flag"]):
        rc, out, err = lint(binary, *args)
        check(rc == 2, f"usage error {args} exit {rc} (stderr {err.strip()[:120]})")
    missing = os.path.join(CORPUS, "no-such-file.conf")
    rc, out, err = lint(binary, missing)
    check(rc == 2 and f"{missing}: error [config-error]" in out,
          f"missing input: exit {rc}, output {out!r}")


def test_text(binary):
    conf = os.path.join(CORPUS, "keepalive.conf")
    rc, out, _ = lint(binary, conf, "--disable", HOST_DEPENDENT)
    check(f"{conf}:6: warning [upstream-no-keepalive] " in out, f"text output: {out[:300]}")
    check("    fix: " in out, "text output has fix lines")
    rc, out, _ = lint(binary, os.path.join(CORPUS, "good.conf"), "--disable", HOST_DEPENDENT)
    check(out.strip() == "no findings", f"good.conf text: {out!r}")


def test_sarif(binary):
    for name in ("keepalive", "rate_limit", "missing_include", "good"):
        rc, out, err = lint(binary, os.path.join(CORPUS, name + ".conf"), "--format", "sarif",
                            "--disable", HOST_DEPENDENT)
        try:
            doc = json.loads(out)
        except ValueError as e:
            check(False, f"{name}: SARIF is not JSON ({e}): {err}")
            continue
        errs = sarif_errors(doc)
        check(not errs, f"{name}: SARIF structure: {errs[:3]}")
        results = doc["runs"][0]["results"]
        check(len(results) == len(expected(name)), f"{name}: {len(results)} SARIF results")
        if name == "rate_limit":
            check(all(r["level"] == "note" for r in results), "info findings are SARIF notes")
    # The checker itself must reject broken documents.
    check(sarif_errors({"version": "2.0", "runs": [{"tool": {"driver": {}}, "results": [
        {"ruleId": "x", "level": "fatal", "message": {}, "locations": [
            {"physicalLocation": {"artifactLocation": {"uri": "a"}, "region": {"startLine": 0}}}]}]}]})
          != [], "SARIF checker rejects a broken document")


# ---------------------------------------------------------------- real nginx -T

SITE = """\
server {
  listen 127.0.0.1:%(port)d;
  location /api/ {
    proxy_set_header X-Real-IP $remote_addr;
    proxy_pass http://app;
  }
  location /upload/ {
    client_max_body_size 200m;
    proxy_pass http://app;
  }
}
"""

MAIN = """\
worker_processes 1;
events { worker_connections 2048; }
http {
  client_body_temp_path spool/body;
  proxy_temp_path spool/proxy;
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  upstream app { server 127.0.0.1:9; keepalive 4; }
  include conf.d/*.conf;
}
"""

def test_nginx_T(binary):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                      else None)
    if not nginx:
        print("SKIPPED (part): nginx not installed, no nginx -T check")
        return
    with tempfile.TemporaryDirectory(prefix="ngxwatch-lint-") as d:
        os.makedirs(os.path.join(d, "conf.d"))
        os.makedirs(os.path.join(d, "spool"))
        main = os.path.join(d, "nginx.conf")
        with open(main, "w") as f:
            f.write(MAIN)
        with open(os.path.join(d, "conf.d", "site.conf"), "w") as f:
            f.write(SITE % {"port": 18080})
        p = subprocess.run([nginx, "-T", "-q", "-c", main, "-p", d], capture_output=True,
                           text=True, timeout=30)
        if not check(p.returncode == 0, f"nginx -T failed: {p.stderr.strip()}"):
            return
        dump = os.path.join(d, "dump.txt")
        with open(dump, "w") as f:
            f.write(p.stdout)
        common = ["--format", "json", "--fail-on", "none", "--prefix", d, "--nginx", nginx]
        runs = {
            "file": lint(binary, main, *common),
            "--dump": lint(binary, dump, "--dump", *common),
            "auto": lint(binary, dump, *common),
        }
        docs = {}
        for how, (rc, out, err) in runs.items():
            check(rc == 0, f"nginx -T {how}: exit {rc} {err}")
            docs[how] = json.loads(out)
            check(not validate(docs[how], json.load(open(SCHEMA))), f"{how}: schema")
        # nginx names files by their real absolute paths; lint must report those.
        got = keys(docs["--dump"], base=d)
        temp_on_root = os.stat(os.path.join(d, "spool")).st_dev == os.stat("/").st_dev
        want = ["body-size-default conf.d/site.conf:3",
                "buffering-large-body conf.d/site.conf:7",
                "connection-header-dropped conf.d/site.conf:4",
                "rlimit-nofile-low nginx.conf:2",
                "upload-no-rate-limit conf.d/site.conf:7",
                "upload-timeout conf.d/site.conf:7"]
        if temp_on_root:
            want += ["temp-path-on-root nginx.conf:4", "temp-path-on-root nginx.conf:5"]
        check(got == sorted(want), f"nginx -T findings {got} != {sorted(want)}")
        check(docs["--dump"]["findings"] == docs["file"]["findings"],
              "lint of nginx -T output differs from lint of the files")
        check(docs["auto"]["findings"] == docs["--dump"]["findings"], "nginx -T auto-detection")
        for f in docs["--dump"]["findings"]:
            check(os.path.isabs(f["file"]) and os.path.exists(f["file"]),
                  f"finding file {f['file']} is not a real path")

        # A config nginx itself rejects: same file:line as nginx's own message.
        with open(os.path.join(d, "conf.d", "site.conf"), "a") as f:
            f.write("server { listen 127.0.0.1:18081; location / { return 204; } } }\n")
        p = subprocess.run([nginx, "-t", "-q", "-c", main, "-p", d], capture_output=True,
                           text=True, timeout=30)
        site = os.path.join(d, "conf.d", "site.conf")
        check(p.returncode != 0 and f"{site}:12" in p.stderr, f"nginx -t: {p.stderr.strip()}")
        rc, out, _ = lint(binary, main, "--format", "json", "--prefix", d)
        doc = json.loads(out)
        check(rc == 2 and [(x["rule_id"], x["file"], x["line"]) for x in doc["findings"]]
              == [("config-error", site, 12)], f"rejected config: exit {rc}, {out[:300]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ngxwatch", required=True, help="path to the ngxwatch binary")
    args = ap.parse_args()
    if not (os.path.isfile(args.ngxwatch) and os.access(args.ngxwatch, os.X_OK)):
        print(f"SKIPPED: no ngxwatch binary at {args.ngxwatch}")
        return SKIP
    with open(SCHEMA) as f:
        schema = json.load(f)
    self_test_validator(schema)
    test_corpus_json(args.ngxwatch, schema)
    test_exit_codes(args.ngxwatch)
    test_text(args.ngxwatch)
    test_sarif(args.ngxwatch)
    test_nginx_T(args.ngxwatch)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("OK: ngxwatch lint CLI")
    return 0


if __name__ == "__main__":
    sys.exit(main())
