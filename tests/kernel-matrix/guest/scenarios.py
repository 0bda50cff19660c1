"""The kernel matrix's E2E subset: four rows of the taxonomy, run by tests/e2e's own
test bodies (test_taxonomy_*.py, unchanged, with smaller counts and bodies for an
emulated CPU) against one daemon per capture backend.

Starting the daemon takes ~30 s under TCG, so the four rows share one daemon: each
row's nginx starts after it, and the row begins once the daemon counts that nginx's
workers. Every row scopes its assertions to its own server and upstreams, so the rows
do not see each other's series."""

import argparse
import contextlib
import time

import guest_daemon as gd
import harness as h
import taxonomy_common as t
import test_taxonomy_keepalive_race_rst as keepalive_race
import test_taxonomy_read_timeout as read_timeout
import test_taxonomy_reset_before_header as reset_before_header
import test_taxonomy_reset_sending_body as reset_sending_body

# (row, its test module, the module's constants set for an emulated CPU). The keepalive
# race runs first: it asserts the daemon-wide keepalive idle histogram, which only it feeds.
SCENARIOS = (
    ("keepalive_race", keepalive_race, {}),
    ("reset_before_header", reset_before_header, {"N": 3}),
    ("reset_sending_body", reset_sending_body, {"N": 3, "BODY": 1 << 20}),
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


class SharedDaemon:
    """What taxonomy_common.run takes for the daemon it starts: the backend's daemon,
    already running, once it counts the row's nginx workers. stop() leaves it running
    (and fails the row if it died); run_backend stops it at the end."""

    def __init__(self, daemon):
        self._daemon = daemon

    def __getattr__(self, name):
        return getattr(self._daemon, name)

    def attach(self, *_binary_and_args):
        want = h.Nginx.all_active_workers()
        h.wait_until(lambda: h.metric_value(self._daemon.scrape(), "ngxwatch_nginx_workers") == want,
                     60, interval=0.2, what=f"the daemon to count the row's {want} nginx workers")
        time.sleep(1)  # and to have read that master's configuration
        return self

    def stop(self):
        rc = self._daemon.proc.poll()
        return 0 if rc is None else rc


@contextlib.contextmanager
def shared(daemon):
    """taxonomy_common.run starts `h.Daemon(...)`: hand it the shared one instead."""
    view = SharedDaemon(daemon)
    saved = h.Daemon
    h.Daemon = view.attach
    try:
        yield
    finally:
        h.Daemon = saved


def new_cell(backend):
    return {"backend": backend, "started": False, "startup_s": None, "in_use": None, "why": "",
            "probes_attached": [], "probes_missing": [], "passed": 0, "total": len(SCENARIOS),
            "failed": [], "errors": [], "note": "", "green": False}


def run_backend(binary, backend, cfg):
    """Starts the daemon with `backend`, runs the rows, stops it; returns the cell."""
    cell = new_cell(backend)
    print(f"\n==== backend {backend}: starting ngxwatch {' '.join(gd.backend_args(backend))}", flush=True)
    started = time.monotonic()
    try:
        daemon = gd.GuestDaemon(binary, *gd.backend_args(backend))
    except gd.DidNotStart as e:
        cell["startup_s"] = round(time.monotonic() - started, 1)
        cell["note"] = f"daemon did not start: {e}"
        cell["errors"] = gd.error_lines(e.log, 12)
        print(f"---- daemon log ({backend})\n{e.log}\n---- {cell['note']}", flush=True)
        return cell
    cell["started"] = True
    cell["startup_s"] = round(time.monotonic() - started, 1)
    samples = daemon.scrape()
    probes = gd.gauges(samples, "ngxwatch_probe_attached", "probe")
    cell["probes_attached"] = sorted(p for p, v in probes.items() if v == 1)
    cell["probes_missing"] = sorted(p for p, v in probes.items() if v != 1)
    cell["in_use"] = gd.capture_backend_in_use(samples)
    cell["why"] = next((line.split("capture backend:", 1)[1].strip() for line in daemon.output().splitlines()
                        if "capture backend:" in line), "")
    print(f"---- up in {cell['startup_s']} s; backend in use: {cell['in_use']} ({cell['why']}); "
          f"probes attached: {cell['probes_attached']}; not attached: {cell['probes_missing']}", flush=True)
    if backend not in ("default", "auto") and cell["in_use"] != backend:
        cell["note"] = f"asked for {backend}, the daemon uses {cell['in_use']}"
    args = argparse.Namespace(ngxwatch=binary)
    nginx_bin = h.require_root_and_nginx()
    with shared(daemon):
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
    try:
        rc = daemon.stop()
    except AssertionError as e:
        rc = str(e)
    if rc != 0:
        cell["note"] = (cell["note"] + "; " if cell["note"] else "") + f"exit after SIGTERM: {rc}"
    cell["errors"] = gd.error_lines(daemon.output(), 12)
    cell["green"] = not cell["note"] and cell["passed"] == cell["total"]
    return cell
