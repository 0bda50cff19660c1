#!/usr/bin/env python3
"""How the kernel side loads here: every program's verifier cost (printed, so growth is
visible before a kernel's limit is hit), exactly one capture backend in use and named
by the gauge and the log, and a backend this kernel refuses degrading request capture
alone: the daemon still runs, resets are still attached, and /metrics says capture is
unavailable."""

import re

import harness as h

# The verifier's limit is 1M processed instructions; a program past a tenth of it is
# one kernel change away from failing to load.
MAX_VERIFIED = 100_000
BACKENDS = ("fentry", "kprobe", "tracepoint")


def loaded_programs(output):
    m = re.search(r"BPF programs loaded \(verified instructions\): (.*)", output)
    h.check(m is not None, "the daemon should log what it loaded:\n" + output[-3000:])
    progs = {}
    for item in m.group(1).split(", "):
        name, _, insns = item.rpartition(" ")
        progs[name] = int(insns)
    return progs


def backend_gauges(samples):
    return {b: h.metric_value(samples, "ngxwatch_capture_backend", backend=b) for b in BACKENDS}


def expect_spine(samples):
    for probe in ("tcp_receive_reset", "tcp_send_reset", "inet_sock_set_state"):
        h.check(h.metric_value(samples, "ngxwatch_probe_attached", probe=probe) == 1,
                f"probe {probe} not attached")


def body(args, nginx_bin):
    daemon = h.Daemon(args.ngxwatch)
    try:
        samples = daemon.scrape()
        out = daemon.output()
    finally:
        daemon.stop()
    progs = loaded_programs(out)
    print("program                     verified instructions")
    for name, insns in sorted(progs.items()):
        print(f"{name:27} {insns}")
    for name in ("btf_receive_reset", "btf_send_reset", "btf_set_state"):
        h.check(name in progs or name.replace("btf_", "tp_") in progs, f"{name} not loaded")
    if all(insns == 0 for insns in progs.values()):
        print("this kernel does not report verified_insns (Linux < 5.16)")
    else:
        for name, insns in progs.items():
            h.check(0 < insns <= MAX_VERIFIED, f"{name}: {insns} verified instructions")
    expect_spine(samples)
    for name, insns in progs.items():
        exported = h.metric_value(samples, "ngxwatch_bpf_verified_instructions", program=name)
        h.check(exported == insns, f"{name}: /metrics says {exported} verified instructions, "
                                   f"the log {insns}")
        h.check(h.metric_value(samples, "ngxwatch_bpf_runs_total", program=name) is not None,
                f"no ngxwatch_bpf_runs_total for {name}")
    gauges = backend_gauges(samples)
    in_use = [b for b, v in gauges.items() if v == 1]
    h.check(len(in_use) == 1 and all(v in (0, 1) for v in gauges.values()),
            f"exactly one capture backend should be in use: {gauges}")
    h.check(f"capture backend: {in_use[0]} (" in out, f"the log should name {in_use[0]}")
    h.check(h.metric_value(samples, "ngxwatch_feature_available", feature="request_capture") == 1,
            "request capture should be available")
    print(f"capture backend: {in_use[0]}")

    # Each other backend, forced: it either works (one gauge, capture available) or this
    # kernel refuses it and only capture goes: the daemon runs, resets stay attached.
    for forced in BACKENDS:
        if forced == in_use[0]:
            continue
        daemon = h.Daemon(args.ngxwatch, "--capture-backend", forced)
        try:
            samples = daemon.scrape()
            out = daemon.output()
        finally:
            rc = daemon.stop()
        h.check(rc == 0, f"--capture-backend {forced}: exit code {rc}")
        expect_spine(samples)
        available = h.metric_value(samples, "ngxwatch_feature_available",
                                   feature="request_capture")
        gauges = backend_gauges(samples)
        if available == 1:
            h.check(gauges[forced] == 1 and sum(gauges.values()) == 1,
                    f"--capture-backend {forced} works but the gauges say {gauges}")
            print(f"{forced}: works here")
        else:
            h.check(available == 0 and sum(gauges.values()) == 0,
                    f"--capture-backend {forced} refused, but gauges {gauges}, available {available}")
            line = re.search(r"request capture unavailable.*", out)
            h.check(line is not None and forced in line.group(0),
                    f"the log should say why {forced} is unavailable:\n{out[-2000:]}")
            print(f"{forced}: refused here, daemon ran without capture: {line.group(0)[:200]}")


if __name__ == "__main__":
    h.run_test(body)
