"""The kernel matrix's E2E subset: four rows of the taxonomy, run by tests/e2e's own
test bodies (test_taxonomy_*.py, unchanged; smaller counts and bodies for an emulated
CPU) with one capture backend (NGXWATCH_CAPTURE_BACKEND, which the harness passes on).
Each row starts its nginx and its daemon, as on the host."""

import argparse
import contextlib
import os
import re
import time

import guest_daemon as gd
import harness as h
import test_taxonomy_keepalive_race_rst as keepalive_race
import test_taxonomy_read_timeout as read_timeout
import test_taxonomy_reset_before_header as reset_before_header
import test_taxonomy_reset_sending_body as reset_sending_body

# (row, its test module, the module's constants set for an emulated CPU). The body stays
# 8 MiB: on 5.10 loopback buffers took in all of a 1 MiB body before the upstream's
# reset arrived (the row then is a reset before the header).
SCENARIOS = (
    ("reset_sending_body", reset_sending_body, {"N": 3}),
    ("reset_before_header", reset_before_header, {"N": 3}),
    ("keepalive_race", keepalive_race, {}),
    ("read_timeout", read_timeout, {"N": 2}),
)


@contextlib.contextmanager
def overridden(module, values):
    for name in values:
        if not hasattr(module, name):
            raise AssertionError(f"{module.__name__} has no constant {name} any more: "
                                 "update tests/kernel-matrix/guest/scenarios.py")
    saved = {name: getattr(module, name) for name in values}
    for name, v in values.items():
        setattr(module, name, v)
    try:
        yield
    finally:
        for name, v in saved.items():
            setattr(module, name, v)


def new_cell(backend):
    return {"backend": backend, "started": False, "startup_s": None, "in_use": None, "why": "",
            "probes_attached": [], "probes_missing": [], "passed": 0, "total": len(SCENARIOS),
            "failed": [], "errors": [], "verdicts": [], "verified": {}, "note": "", "green": False}


def survey(binary, cell):
    """Starts the daemon once beside an idle nginx: does it come up, which probes
    attach, which backend it uses and why. False when it did not come up."""
    nginx = gd.start_idle_nginx()
    started = time.monotonic()
    try:
        daemon = gd.GuestDaemon(binary)
    except gd.DidNotStart as e:
        cell["startup_s"] = round(time.monotonic() - started, 1)
        cell["note"] = f"daemon did not start: {e}"
        cell["errors"] = gd.error_lines(e.log, 12)
        cell["verdicts"] = gd.verdicts(e.log)
        print(f"---- daemon log\n{e.log}\n---- {cell['note']}", flush=True)
        nginx.cleanup()
        return False
    cell["started"] = True
    cell["startup_s"] = round(time.monotonic() - started, 1)
    samples = daemon.scrape()
    probes = gd.gauges(samples, "ngxwatch_probe_attached", "probe")
    cell["probes_attached"] = sorted(p for p, v in probes.items() if v == 1)
    cell["probes_missing"] = sorted(p for p, v in probes.items() if v != 1)
    cell["in_use"] = gd.capture_backend_in_use(samples)
    cell["capture_available"] = h.metric_value(samples, "ngxwatch_feature_available",
                                               feature="request_capture")
    try:
        rc = daemon.stop()
    except AssertionError as e:
        rc = str(e)
    nginx.cleanup()
    with open(daemon.log_path, errors="replace") as f:
        log = f.read()
    chosen = re.search(r"capture backend: (.*)", log)
    refused = re.search(r"request capture unavailable.*", log)
    cell["why"] = chosen.group(1).strip() if chosen else refused.group(0).strip() if refused else ""
    cell["errors"] = gd.error_lines(log, 12)
    cell["verdicts"] = gd.verdicts(log)
    cell["verified"] = gd.verified_instructions(log)
    print(f"---- up in {cell['startup_s']} s; backend in use: {cell['in_use']} ({cell['why']}); "
          f"probes attached: {cell['probes_attached']}; not attached: {cell['probes_missing']}", flush=True)
    if cell["errors"]:
        print("---- what went wrong in its log:\n" + "\n".join(cell["errors"]), flush=True)
    if rc != 0:
        cell["note"] = f"exit after SIGTERM: {rc}"
    elif cell["probes_missing"]:
        # Every program should load on every kernel of the matrix (issue 8).
        cell["note"] = f"not attached: {', '.join(cell['probes_missing'])}"
    return True


def run_backend(binary, backend, cfg):
    """The survey, then the rows, with the daemon's arguments for `backend`."""
    cell = new_cell(backend)
    os.environ["NGXWATCH_CAPTURE_BACKEND"] = gd.backend_env(backend)
    print(f"\n==== backend {backend}", flush=True)
    if not survey(binary, cell):
        return cell
    if backend not in ("default", "auto") and cell["in_use"] != backend:
        cell["note"] = (f"asked for {backend}, the daemon uses {cell['in_use'] or 'none'}"
                        + (f": {cell['why']}" if cell["why"] else ""))
        return cell
    if backend == "auto" and not cell["in_use"]:
        cell["note"] = f"auto chose no capture backend: {cell['why']}"
        return cell
    args = argparse.Namespace(ngxwatch=binary)
    nginx_bin = h.require_root_and_nginx()
    for name, module, sizes in SCENARIOS:
        print(f"---- row {name} ({backend})", flush=True)
        row_started = time.monotonic()
        try:
            with overridden(module, sizes):
                module.body(args, nginx_bin)
            cell["passed"] += 1
            print(f"PASS {name} ({time.monotonic() - row_started:.1f} s)", flush=True)
        except (AssertionError, OSError) as e:
            cell["failed"].append(name)
            print(f"FAIL {name} ({time.monotonic() - row_started:.1f} s): {e}", flush=True)
    cell["green"] = not cell["note"] and cell["passed"] == cell["total"]
    return cell
