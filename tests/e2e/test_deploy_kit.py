"""The fleet kit in deploy/ is consistent with the daemon (no root needed).

- promtool check rules / promtool test rules on deploy/prometheus/;
- the Grafana dashboard's structure (panels, grid, targets, variables), every PromQL
  expression in it parsed by promtool;
- every metric name in the rules and the dashboard is one the daemon exports: the names
  are taken from the C++ sources (`.Name("ngxwatch_...")`, histograms with their
  _bucket/_sum/_count series), so renaming a metric breaks this test; names listed in
  deploy/planned-metrics.txt are accepted too;
- the DaemonSet's security-relevant lines (hostPID, the four capabilities and the same
  set as the systemd unit, BTF and tracefs mounts).

SKIPPED (exit 77) when promtool is not installed (Debian package `prometheus`).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")
RULES = os.path.join(DEPLOY, "prometheus", "ngxwatch-rules.yml")
RULES_TEST = os.path.join(DEPLOY, "prometheus", "ngxwatch-rules.test.yml")
DASHBOARD = os.path.join(DEPLOY, "grafana", "ngxwatch-dashboard.json")
DAEMONSET = os.path.join(DEPLOY, "kubernetes", "ngxwatch-daemonset.yaml")
PLANNED = os.path.join(DEPLOY, "planned-metrics.txt")
UNIT = os.path.join(ROOT, "systemd", "ngxwatch.service")

# Alerts the fleet relies on (the list); deleting one must fail the test.
REQUIRED_ALERTS = {
    "NgxwatchUpstreamResetRateHigh": "ngxwatch_resets_total",
    "NgxwatchClientVisibleErrors": "ngxwatch_client_visible_errors_total",
    "NgxwatchRetryStorm": "ngxwatch_retry_storm_active",
    "NgxwatchTempDirFullSoon": "ngxwatch_temp_dir_full_eta_seconds",
    "NgxwatchEventsDropped": "ngxwatch_events_dropped_total",
}
PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
                   "unless", "bool", "offset", "inf", "nan", "Inf", "NaN", "atan2",
                   # aggregation operators, also written `sum by (x) (expr)`
                   "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
                   "count_values", "bottomk", "topk", "quantile"}
BUILTIN_SERIES = {"up"}  # Prometheus' own per-target series
GRAFANA_BUILTINS = {"__rate_interval", "__interval", "__range", "__range_s", "__interval_ms"}
PANEL_TYPES = {"row", "timeseries", "stat", "gauge", "table", "heatmap", "bargauge", "text",
               "piechart", "state-timeline", "barchart"}

failures = []


def fail(message):
    failures.append(message)
    print(f"  FAIL: {message}")


def note(message):
    print(f"  note: {message}")


# ------------------------------------------------------------------ exported names


def exported_series():
    """{series name: metric} from the C++ sources' `.Name("ngxwatch_...")` calls."""
    build = re.compile(r'Build(Counter|Gauge|Histogram|Summary|Info)\(\)\s*\.Name\("(ngxwatch_\w+)"\)')
    bare = re.compile(r'\.Name\("(ngxwatch_\w+)"\)')
    series = {}
    for top in ("daemon", "include"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for fn in files:
                if not fn.endswith((".cpp", ".cc", ".h", ".hpp")):
                    continue
                with open(os.path.join(dirpath, fn), errors="replace") as f:
                    text = f.read()
                kinds = {name: kind for kind, name in build.findall(text)}
                for name in bare.findall(text):
                    kind = kinds.get(name, "Counter")
                    if kind == "Histogram":
                        for suffix in ("_bucket", "_sum", "_count"):
                            series[name + suffix] = name
                    elif kind == "Summary":
                        for suffix in ("", "_sum", "_count"):
                            series[name + suffix] = name
                    else:
                        series[name] = name
    return series


def planned_names():
    with open(PLANNED) as f:
        return {ln.strip() for ln in f if ln.strip() and not ln.startswith("#")}


def metric_names(expr):
    """Series names an expression selects (functions, keywords, labels removed)."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    s = re.sub(r"'(?:[^'\\]|\\.)*'", "''", s)
    s = re.sub(r"\{[^}]*\}", " ", s)  # label matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)  # ranges and subqueries
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", r" \1 ", s)
    s = re.sub(r"\$\{?\w+\}?", " ", s)  # dashboard variables
    names = []
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", s):
        tok = m.group(0)
        if m.start() > 0 and (s[m.start() - 1].isdigit() or s[m.start() - 1] == "."):
            continue  # 1e9, 5m
        if s[m.end():].lstrip().startswith("("):
            continue  # a function call
        if tok in PROMQL_KEYWORDS:
            continue
        names.append(tok)
    return names


def check_names(where, expr, allowed, used):
    names = metric_names(expr)
    if not any(n.startswith("ngxwatch") for n in names):
        fail(f"{where}: expression selects no ngxwatch metric: {expr}")
    for n in names:
        used.add(n)
        if n not in allowed:
            fail(f"{where}: metric {n!r} is not exported by ngxwatch (nor planned): {expr}")


# ------------------------------------------------------------------ rules


def rule_exprs(text):
    """(kind, name, expr) for each rule, from the YAML text: `expr: inline` or a folded
    (`>`, `>-`, `|`) block. Minimal on purpose: python3 has no YAML parser built in."""
    lines = text.splitlines()
    out = []
    current = None
    for i, line in enumerate(lines):
        m = re.match(r"^\s*-?\s*(alert|record):\s*(\S+)\s*$", line)
        if m:
            current = (m.group(1), m.group(2))
            continue
        m = re.match(r"^(\s*)expr:\s*(.*)$", line)
        if not m:
            continue
        indent, rest = len(m.group(1)), m.group(2).strip()
        if rest and rest[0] not in ">|":
            expr = rest.strip("'\"") if rest[:1] in "'\"" else rest
        else:
            block = []
            for nxt in lines[i + 1:]:
                if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                    break
                block.append(nxt.strip())
            expr = " ".join(b for b in block if b)
        out.append((current[0] if current else "?", current[1] if current else "?", expr))
    return out


def check_rules(promtool, allowed):
    print("rules:")
    r = subprocess.run([promtool, "check", "rules", RULES], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"promtool check rules failed:\n{r.stdout}{r.stderr}")
    r = subprocess.run([promtool, "test", "rules", os.path.basename(RULES_TEST)],
                       capture_output=True, text=True, cwd=os.path.dirname(RULES_TEST))
    if r.returncode != 0 or "SUCCESS" not in r.stdout:
        fail(f"promtool test rules failed:\n{r.stdout}{r.stderr}")
    with open(RULES) as f:
        rules = rule_exprs(f.read())
    if len(rules) < len(REQUIRED_ALERTS):
        fail(f"only {len(rules)} rules found in {RULES}")
    recorded = {name for kind, name, _ in rules if kind == "record"}
    used = set()
    for kind, name, expr in rules:
        check_names(f"rule {name}", expr, allowed | recorded, used)
    alerts = {name: expr for kind, name, expr in rules if kind == "alert"}
    for alert, metric in REQUIRED_ALERTS.items():
        if alert not in alerts:
            fail(f"alert {alert} is missing from {RULES}")
        elif metric not in metric_names(alerts[alert]):
            fail(f"alert {alert} does not use {metric}: {alerts[alert]}")
    eta = alerts.get("NgxwatchTempDirFullSoon", "")
    if not re.search(r"<\s*600\b", eta):
        fail(f"NgxwatchTempDirFullSoon must fire below 10 minutes (< 600 s): {eta}")
    with open(RULES_TEST) as f:
        tested = set(re.findall(r"alertname:\s*(\w+)", f.read()))
    for alert in alerts:
        if alert not in tested:
            fail(f"alert {alert} has no case in {os.path.basename(RULES_TEST)}")
    print(f"  {len(rules)} rules, {len(alerts)} alerts, all with promtool tests")
    return used


# ------------------------------------------------------------------ dashboard


def all_panels(panels):
    for p in panels:
        yield p
        yield from all_panels(p.get("panels", []))


def check_dashboard(promtool, allowed):
    print("dashboard:")
    with open(DASHBOARD) as f:
        try:
            d = json.load(f)
        except json.JSONDecodeError as e:
            fail(f"{DASHBOARD} is not valid JSON: {e}")
            return set()
    for key, typ in (("title", str), ("uid", str), ("schemaVersion", int), ("panels", list),
                     ("templating", dict)):
        if not isinstance(d.get(key), typ) or not d.get(key):
            fail(f"dashboard: top-level {key!r} missing or not a non-empty {typ.__name__}")
    if d.get("uid") and not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", d["uid"]):
        fail(f"dashboard uid {d['uid']!r} is not a valid Grafana uid")
    variables = {v.get("name") for v in d.get("templating", {}).get("list", [])}
    panels = list(all_panels(d.get("panels", [])))
    ids = [p.get("id") for p in panels]
    if len(ids) != len(set(ids)) or not all(isinstance(i, int) for i in ids):
        fail(f"dashboard: panel ids must be unique integers: {ids}")
    cells = {}
    exprs = []
    used = set()
    for p in panels:
        title = p.get("title") or f"panel {p.get('id')}"
        if p.get("type") not in PANEL_TYPES:
            fail(f"dashboard: {title}: unknown panel type {p.get('type')!r}")
        g = p.get("gridPos", {})
        if not all(isinstance(g.get(k), int) for k in "hwxy"):
            fail(f"dashboard: {title}: gridPos needs integer h, w, x, y: {g}")
            continue
        if g["w"] <= 0 or g["h"] <= 0 or g["x"] < 0 or g["x"] + g["w"] > 24:
            fail(f"dashboard: {title}: gridPos outside the 24-column grid: {g}")
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in cells:
                    fail(f"dashboard: {title} overlaps {cells[(x, y)]} at ({x},{y})")
                    break
                cells[(x, y)] = title
            else:
                continue
            break
        if p.get("type") in ("row", "text"):
            continue
        targets = p.get("targets")
        if not isinstance(targets, list) or not targets:
            fail(f"dashboard: {title}: no targets")
            continue
        refids = [t.get("refId") for t in targets]
        if len(set(refids)) != len(refids) or not all(refids):
            fail(f"dashboard: {title}: refIds must be present and unique: {refids}")
        for t in targets:
            ds = t.get("datasource") or p.get("datasource") or {}
            if ds.get("type") != "prometheus":
                fail(f"dashboard: {title}: target datasource is not prometheus: {ds}")
            expr = t.get("expr")
            if not isinstance(expr, str) or not expr.strip():
                fail(f"dashboard: {title}: target {t.get('refId')} has no expr")
                continue
            for var in re.findall(r"\$\{?(\w+)", expr):
                if var not in variables and var not in GRAFANA_BUILTINS:
                    fail(f"dashboard: {title}: expr uses undefined variable ${var}")
            check_names(f"dashboard panel {title!r}", expr, allowed, used)
            exprs.append((title, expr))
    for v in d.get("templating", {}).get("list", []):
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        m = re.match(r"\s*label_values\(\s*([A-Za-z_:][\w:]*)\s*,", q or "")
        if m:
            used.add(m.group(1))
            if m.group(1) not in allowed:
                fail(f"dashboard variable {v.get('name')}: metric {m.group(1)!r} is not exported")
    if not exprs:
        fail("dashboard: no queries")
    # Every expression must be valid PromQL: promtool parses them as recording rules.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "dashboard-exprs.yml")
        with open(path, "w") as f:
            f.write("groups:\n  - name: dashboard\n    rules:\n")
            for i, (title, expr) in enumerate(exprs):
                e = (expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")
                     .replace("$__range", "1h"))
                e = re.sub(r"\$\{?\w+\}?", ".*", e)
                f.write(f"      - record: dashboard:expr_{i}\n        expr: {json.dumps(e)}\n")
        r = subprocess.run([promtool, "check", "rules", path], capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"dashboard expressions are not valid PromQL:\n{r.stdout}{r.stderr}")
    print(f"  {len(panels)} panels, {len(exprs)} queries parsed by promtool")
    return used


# ------------------------------------------------------------------ DaemonSet


def unit_capabilities():
    with open(UNIT) as f:
        m = re.search(r"^CapabilityBoundingSet=(.*)$", f.read(), re.M)
    return {c.removeprefix("CAP_") for c in m.group(1).split()} if m else set()


def yaml_list_after(text, key):
    """Items of the block list under `key:` (the `- ITEM  # comment` lines)."""
    m = re.search(rf"^(\s*){key}:\s*\n((?:\1\s+- .*\n)+)", text, re.M)
    if not m:
        return None
    return [re.sub(r"\s+#.*$", "", ln.strip()[2:]).strip() for ln in m.group(2).splitlines()]


def check_daemonset():
    print("daemonset:")
    with open(DAEMONSET) as f:
        text = f.read()
    if "\t" in text:
        fail("DaemonSet YAML contains tabs")
    required = {
        r"^kind: DaemonSet$": "a DaemonSet",
        r"^apiVersion: apps/v1$": "apiVersion apps/v1",
        r"^\s+hostPID: true$": "hostPID: true",
        r"^\s+privileged: false$": "privileged: false",
        r"^\s+allowPrivilegeEscalation: false$": "allowPrivilegeEscalation: false",
        r"^\s+readOnlyRootFilesystem: true$": "readOnlyRootFilesystem: true",
        r"^\s+mountPath: /sys/kernel/btf$": "the BTF mount",
        r"^\s+path: /sys/kernel/btf$": "the BTF hostPath",
        r"^\s+mountPath: /sys/kernel/tracing$": "the tracefs mount",
        r"^\s+path: /sys/kernel/tracing$": "the tracefs hostPath",
        r"^\s+containerPort: 9617$": "the metrics port 9617",
        r"^\s+- 0\.0\.0\.0:9617$": "--listen on the pod IP",
        r'^\s+prometheus\.io/port: "9617"$': "the scrape annotation on the metrics port",
    }
    for pattern, what in required.items():
        if not re.search(pattern, text, re.M):
            fail(f"DaemonSet: {what} missing ({pattern})")
    for forbidden in (r"privileged: true", r"SYS_ADMIN", r"hostNetwork: true"):
        if re.search(forbidden, text):
            fail(f"DaemonSet must not use {forbidden}")
    drop = yaml_list_after(text, "drop")
    add = yaml_list_after(text, "add")
    if drop != ["ALL"]:
        fail(f"DaemonSet: capabilities.drop must be [ALL], got {drop}")
    want = unit_capabilities()
    if want != {"BPF", "PERFMON", "SYS_PTRACE", "DAC_READ_SEARCH"}:
        fail(f"systemd unit's CapabilityBoundingSet is unexpected: {sorted(want)}")
    if set(add or []) != want:
        fail(f"DaemonSet capabilities.add {add} differ from the systemd unit's {sorted(want)}")
    try:
        import yaml  # python3-yaml, when installed: a real parse on top of the line checks
    except ImportError:
        note("python3-yaml not installed: DaemonSet checked line by line only")
        return
    docs = [doc for doc in yaml.safe_load_all(text) if doc]
    ds = [doc for doc in docs if doc.get("kind") == "DaemonSet"]
    if len(ds) != 1:
        fail(f"DaemonSet: want one DaemonSet document, got kinds {[d.get('kind') for d in docs]}")
        return
    spec = ds[0]["spec"]["template"]["spec"]
    if spec["hostPID"] is not True:
        fail("DaemonSet: hostPID is not true after parsing")
    (c,) = spec["containers"]
    caps = c["securityContext"]["capabilities"]
    if set(caps["add"]) != want or caps["drop"] != ["ALL"]:
        fail(f"DaemonSet: parsed capabilities {caps}")
    if ds[0]["spec"]["selector"]["matchLabels"].items() > ds[0]["spec"]["template"]["metadata"]["labels"].items():
        fail("DaemonSet: selector does not match the pod template's labels")
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    vols = {v["name"]: v for v in spec["volumes"]}
    for name in mounts:
        if name not in vols:
            fail(f"DaemonSet: volumeMount {name} has no volume")
    for path in ("/sys/kernel/btf", "/sys/kernel/tracing"):
        m = [m for m in c["volumeMounts"] if m["mountPath"] == path]
        if not m or not m[0].get("readOnly"):
            fail(f"DaemonSet: {path} must be mounted read-only")
        elif vols.get(m[0]["name"], {}).get("hostPath", {}).get("path") != path:
            fail(f"DaemonSet: {path} is not the node's {path}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ngxwatch", help="unused: this test reads the sources and deploy/")
    p.parse_args()
    promtool = shutil.which("promtool")
    if not promtool:
        print("SKIPPED: promtool not installed (Debian package prometheus; scripts/setup)")
        sys.exit(SKIP)

    exported = exported_series()
    metrics = set(exported.values())
    print(f"exported by the C++ sources: {sorted(metrics)}")
    if "ngxwatch_resets_total" not in metrics or len(metrics) < 5:
        fail("could not find the daemon's metric names in daemon/ (.Name(\"ngxwatch_...\"))")
    planned = planned_names()
    for name in sorted(planned & metrics):
        note(f"{name} is exported now: delete it from deploy/planned-metrics.txt")
    allowed = set(exported) | planned | BUILTIN_SERIES

    used = check_rules(promtool, allowed)
    used |= check_dashboard(promtool, allowed)
    check_daemonset()

    for name in sorted(metrics):
        if not any(u == name or exported.get(u) == name for u in used):
            note(f"{name} is exported but neither the rules nor the dashboard use it")
    for name in sorted(planned - used):
        fail(f"{name} is in planned-metrics.txt but used nowhere: delete it")

    name = os.path.basename(sys.argv[0])
    if failures:
        print(f"FAIL {name}: {len(failures)} problem(s)")
        sys.exit(1)
    print(f"PASS {name}")


if __name__ == "__main__":
    main()
