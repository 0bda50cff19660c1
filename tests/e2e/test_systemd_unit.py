"""The systemd unit, its default configuration and the man page (systemd/).

- `systemd-analyze verify` accepts the unit (binary = the one under test, man page
  found through MANPATH), with no warning about it;
- `systemd-analyze security --offline=yes` rates its exposure at 2.0 or below;
- the unit keeps what the service contract needs (Type=notify, watchdog, restart with a
  start limit, SIGHUP reload, runtime directory, hardening) and grants exactly the
  capabilities ngxwatch needs, the same set as ambient and bounding set;
- every key of systemd/ngxwatch.conf is a flag of `ngxwatch` / `ngxwatch run`, with the
  flag's default value; when the daemon has --config, it must accept the file;
- the man page renders without warnings and documents every flag and key;
- the sysusers file creates the unit's User=;
- as root with nginx installed: the daemon, run as an unprivileged user with only the
  unit's AmbientCapabilities (setpriv), attaches its probes, adopts nginx's listening
  sockets from /proc and attributes upstream resets to the right location.

SKIPPED (exit 77) when systemd-analyze is not installed (Debian package `systemd`).
"""

import argparse
import configparser
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

SKIP = 77
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SYSTEMD = os.path.join(ROOT, "systemd")
UNIT = os.path.join(SYSTEMD, "ngxwatch.service")
CONF = os.path.join(SYSTEMD, "ngxwatch.conf")
MAN = os.path.join(SYSTEMD, "ngxwatch.8")
SYSUSERS = os.path.join(SYSTEMD, "ngxwatch.sysusers")
MAX_EXPOSURE = 2.0
CAPS = {"CAP_BPF", "CAP_PERFMON", "CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH"}

failures = []


def fail(message):
    failures.append(message)
    print(f"  FAIL: {message}")


def note(message):
    print(f"  note: {message}")


def unit_settings(text):
    """{(section, key): [values]} of a unit file (continuation lines not used here)."""
    out, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.setdefault((section, key.strip()), []).append(value.strip())
    return out


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)


# ------------------------------------------------------------------ systemd-analyze


def check_analyze(analyze, binary, tmp):
    print("systemd-analyze:")
    with open(UNIT) as f:
        text = f.read()
    if "/usr/sbin/ngxwatch " not in text:
        fail("ExecStart must run /usr/sbin/ngxwatch (cmake/install.cmake rewrites it)")
    unit = os.path.join(tmp, "ngxwatch.service")
    with open(unit, "w") as f:
        f.write(text.replace("/usr/sbin/ngxwatch", os.path.abspath(binary)))
    man8 = os.path.join(tmp, "man", "man8")
    os.makedirs(man8)
    shutil.copy(MAN, man8)
    env = dict(os.environ, MANPATH=os.path.join(tmp, "man"))
    man = "--man=yes" if shutil.which("man") else "--man=no"
    if man == "--man=no":
        note("man is not installed: verify does not look the man page up")
    r = run([analyze, "verify", man, unit], env=env)
    ours = [ln for ln in (r.stdout + r.stderr).splitlines() if "ngxwatch" in ln]
    if r.returncode != 0 or ours:
        fail(f"systemd-analyze verify (exit {r.returncode}):\n{r.stdout}{r.stderr}")
    else:
        print("  verify: clean")

    r = run([analyze, "security", "--offline=yes", f"--threshold={int(MAX_EXPOSURE * 10)}", unit])
    m = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", r.stdout + r.stderr)
    if not m:
        fail(f"no exposure level in systemd-analyze security output:\n{r.stdout}{r.stderr}")
    else:
        level = float(m.group(1))
        print(f"  security: exposure {level}")
        if level > MAX_EXPOSURE or r.returncode != 0:
            bad = [ln for ln in r.stdout.splitlines() if "✗" in ln]
            fail(f"exposure {level} > {MAX_EXPOSURE} (exit {r.returncode}):\n" + "\n".join(bad))


# ------------------------------------------------------------------ the unit's contract


def check_unit_contract():
    print("unit contract:")
    with open(UNIT) as f:
        s = unit_settings(f.read())

    def one(section, key):
        v = s.get((section, key))
        return v[-1] if v else None

    want = {
        ("Service", "Type"): "notify",
        ("Service", "NotifyAccess"): "main",
        ("Service", "Restart"): "on-failure",
        ("Service", "ExecReload"): "/bin/kill -HUP $MAINPID",
        ("Service", "RuntimeDirectory"): "ngxwatch",
        ("Service", "User"): "ngxwatch",
        ("Service", "Group"): "ngxwatch",
        ("Service", "NoNewPrivileges"): "yes",
        ("Service", "ProtectSystem"): "strict",
        ("Service", "ProtectHome"): "yes",
        ("Service", "PrivateTmp"): "yes",
        ("Install", "WantedBy"): "multi-user.target",
    }
    for (section, key), value in want.items():
        if one(section, key) != value:
            fail(f"[{section}] {key}={value} expected, got {one(section, key)!r}")
    for key in ("WatchdogSec", "TimeoutStartSec"):
        if not one("Service", key):
            fail(f"[Service] {key}= missing")
    for key in ("StartLimitIntervalSec", "StartLimitBurst"):
        if not one("Unit", key):
            fail(f"[Unit] {key}= missing (the restart loop must be bounded)")
    exec_start = one("Service", "ExecStart") or ""
    if not re.fullmatch(r"/usr/sbin/ngxwatch --config /etc/ngxwatch/ngxwatch\.conf run", exec_start):
        fail(f"ExecStart must read /etc/ngxwatch/ngxwatch.conf: {exec_start!r}")
    families = set(" ".join(s.get(("Service", "RestrictAddressFamilies"), [])).split())
    if not families or not families <= {"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"}:
        fail(f"RestrictAddressFamilies= too wide or missing: {sorted(families)}")
    filters = " ".join(s.get(("Service", "SystemCallFilter"), []))
    for needed in ("bpf", "perf_event_open"):
        if needed not in filters.split():
            fail(f"SystemCallFilter= must allow {needed}(): {filters!r}")
    ambient = set(" ".join(s.get(("Service", "AmbientCapabilities"), [])).split())
    bounding = set(" ".join(s.get(("Service", "CapabilityBoundingSet"), [])).split())
    if ambient != CAPS or bounding != CAPS:
        fail(f"capabilities: ambient {sorted(ambient)}, bounding {sorted(bounding)}; "
             f"want exactly {sorted(CAPS)}")
    # hidepid=invisible still shows every process to a holder of CAP_SYS_PTRACE.
    if one("Service", "ProtectProc") not in (None, "default", "invisible"):
        fail("ProtectProc= other than invisible hides nginx's processes from ngxwatch")
    for forbidden in ("PrivateUsers", "PrivateNetwork"):
        if one("Service", forbidden) not in (None, "no", "default"):
            fail(f"{forbidden}= breaks ngxwatch (it must see nginx's processes and sockets, "
                 "and BPF needs capabilities in the initial user namespace)")
    print(f"  Type=notify, watchdog {one('Service', 'WatchdogSec')}, caps {sorted(ambient)}")
    return s


# ------------------------------------------------------------------ configuration file


def help_flags(binary, *sub):
    """{flag: default or None} from CLI11's --help of `ngxwatch [sub]`."""
    r = run([binary, *sub, "--help"])
    flags = {}
    for line in r.stdout.splitlines():
        m = re.match(r"^\s+(?:-\w,)?--([a-z0-9][a-z0-9-]*)(.*)$", line)
        if not m:
            continue
        spec = m.group(2).strip().split("  ")[0]
        flags[m.group(1)] = spec.rsplit("=", 1)[1] if "=" in spec else None
    return flags, r.stdout


def check_config(binary):
    print("default configuration:")
    parser = configparser.ConfigParser(default_section="__none__", interpolation=None,
                                       inline_comment_prefixes=None)
    with open(CONF) as f:
        text = f.read()
    try:
        parser.read_string("[__top__]\n" + text)
    except configparser.Error as e:
        fail(f"{CONF} does not parse as INI: {e}")
        return set()
    top_flags, top_help = help_flags(binary)
    run_flags, _ = help_flags(binary, "run")
    keys = set()
    for section in parser.sections():
        flags = top_flags if section == "__top__" else run_flags if section == "run" else None
        if flags is None:
            fail(f"{CONF}: section [{section}] is no ngxwatch subcommand")
            continue
        for key, raw in parser.items(section):
            keys.add(key)
            value = raw.strip().strip('"')
            where = "ngxwatch" if section == "__top__" else f"ngxwatch {section}"
            if key not in flags:
                fail(f"{CONF}: key {key!r} is not a flag of `{where}` (--{key})")
            elif flags[key] is not None and flags[key] != value:
                fail(f"{CONF}: {key} = {value!r} but `{where} --help` says the default is "
                     f"{flags[key]!r}")
    if parser.has_section("run") and parser.get("run", "listen", fallback="").strip('"') != "127.0.0.1:9617":
        fail(f"{CONF}: listen must default to 127.0.0.1:9617 (DESIGN.md)")
    if "config" in top_flags:
        # The daemon reads config files: it must accept this one (unknown keys are errors).
        r = run([binary, "--config", CONF, "run", "--help"])
        if r.returncode != 0:
            fail(f"`ngxwatch --config {CONF} run --help` exits {r.returncode}: {r.stderr.strip()}")
        else:
            print("  the daemon accepts it (--config)")
    else:
        note("ngxwatch has no --config flag yet: keys checked against --help only")
    print(f"  keys {sorted(keys)}")
    return keys | set(run_flags) | set(top_flags)


# ------------------------------------------------------------------ man page, sysusers


def check_man(names):
    print("man page:")
    with open(MAN) as f:
        text = f.read()
    if shutil.which("groff"):
        r = run(["groff", "-man", "-ww", "-z", MAN])
        if r.returncode != 0 or r.stderr.strip():
            fail(f"groff warnings in {MAN}:\n{r.stderr}")
    else:
        note("groff not installed: man page rendering not checked")
    plain = text.replace("\\-", "-")
    for name in sorted(names - {"help", "version"}):
        if f"--{name}" not in plain and name not in plain:
            fail(f"the man page does not document --{name}")
    for needed in ("/etc/ngxwatch/ngxwatch.conf", "/run/ngxwatch/api.sock", "SIGHUP",
                   "CAP_BPF", "CAP_PERFMON", "CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH"):
        if needed not in plain:
            fail(f"the man page does not mention {needed}")


def check_sysusers(unit):
    print("sysusers:")
    sysusers = shutil.which("systemd-sysusers")
    if not sysusers:
        note("systemd-sysusers not installed: sysusers file not checked")
        return
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "etc"))
        r = run([sysusers, f"--root={root}", "--dry-run", SYSUSERS])
    user = unit.get(("Service", "User"), ["?"])[-1]
    if r.returncode != 0 or f"Creating user '{user}'" not in r.stdout + r.stderr:
        fail(f"systemd-sysusers does not create user {user!r} from {SYSUSERS}:\n{r.stdout}{r.stderr}")
    else:
        print(f"  creates user {user}")


# ------------------------------------------------------------------ capabilities suffice


def check_capabilities_suffice(binary, unit):
    """As root: the daemon with only the unit's ambient capabilities, as an unprivileged
    user, must still do its job on a real nginx. uid 65533 is neither root (the master)
    nor nobody (the workers), like the service user: with CAP_SYS_PTRACE or
    CAP_DAC_READ_SEARCH missing, nginx's sockets are not learned and this fails."""
    print("capabilities (live):")
    if os.geteuid() != 0:
        note("not root: the live capability check is skipped")
        return
    setpriv = shutil.which("setpriv")
    nginx_bin = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if not setpriv or not nginx_bin:
        note("setpriv or nginx missing: the live capability check is skipped")
        return
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import harness as h

    caps = sorted(" ".join(unit.get(("Service", "AmbientCapabilities"), [])).split())
    capset = ",".join(["-all"] + ["+" + c.removeprefix("CAP_").lower() for c in caps])
    tmp = tempfile.mkdtemp(prefix="ngxwatch-caps-")
    os.chmod(tmp, 0o755)
    wrapper = os.path.join(tmp, "ngxwatch-as-service")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\n"
                f"exec {setpriv} --reuid=65533 --regid=65533 --clear-groups --no-new-privs "
                f"--inh-caps={capset} --ambient-caps={capset} --bounding-set={capset} "
                f"{os.path.abspath(binary)} \"$@\"\n")
    os.chmod(wrapper, stat.S_IRWXU)

    bad = h.Upstream(h.resets_after_request, name="resetting")
    port = h.free_port()
    nginx = h.Nginx(nginx_bin, f"""
    client_max_body_size 10m;
    server {{
        listen 127.0.0.1:{port};
        location /upload/reset {{ proxy_pass http://{bad.address}; }}
    }}""")
    daemon = None
    n = 5
    before = len(failures)
    try:
        nginx.start()  # before the daemon: its sockets must be learned from /proc
        daemon = h.Daemon(wrapper)
        statuses = [h.post(port, "/upload/reset", 64 * 1024) for _ in range(n)]
        if statuses != [502] * n:
            fail(f"resetting upstream should give 502s: {statuses}")

        def resets():
            return h.metric_sum(daemon.scrape(), "ngxwatch_resets_total", side="upstream",
                                origin="peer", peer=bad.address, location="/upload/reset")
        try:
            h.wait_until(lambda: resets() >= n, 10, what="resets attributed to /upload/reset")
        except AssertionError as e:
            fail(f"with only {caps}: {e}")
        samples = daemon.scrape()
        for probe in ("tcp_receive_reset", "tcp_send_reset", "inet_sock_set_state"):
            if h.metric_value(samples, "ngxwatch_probe_attached", probe=probe) != 1:
                fail(f"with only {caps}: probe {probe} not attached")
        out = daemon.output()
        m = re.search(r"nginx: \d+ processes .*?, (\d+) listening sockets", out)
        if not m or int(m.group(1)) < 1:
            fail(f"with only {caps}: nginx's listening sockets were not learned from /proc "
                 f"(log: {m.group(0) if m else 'no scan line'})")
        if "configuration loaded" not in out:
            fail(f"with only {caps}: nginx's configuration was not loaded")
        rc = daemon.stop()
        daemon = None
        if rc != 0:
            fail(f"ngxwatch under setpriv exited {rc} after SIGTERM")
        if len(failures) == before:
            print(f"  {caps} as uid 65533: probes attached, sockets adopted, resets attributed")
    except AssertionError as e:
        fail(str(e))
    finally:
        if len(failures) > before and daemon:
            print(daemon.output()[-3000:])
        if daemon:
            daemon.stop()
        nginx.cleanup()
        bad.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ngxwatch", required=True, help="path to the ngxwatch binary")
    args = p.parse_args()
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        print("SKIPPED: systemd-analyze not installed (Debian package systemd; scripts/setup)")
        sys.exit(SKIP)
    with tempfile.TemporaryDirectory() as tmp:
        check_analyze(analyze, args.ngxwatch, tmp)
    unit = check_unit_contract()
    names = check_config(args.ngxwatch)
    suggest_flags, _ = help_flags(args.ngxwatch, "suggest")
    check_man(names | set(suggest_flags))
    check_sysusers(unit)
    check_capabilities_suffice(args.ngxwatch, unit)

    name = os.path.basename(sys.argv[0])
    if failures:
        print(f"FAIL {name}: {len(failures)} problem(s)")
        sys.exit(1)
    print(f"PASS {name}")


if __name__ == "__main__":
    main()
