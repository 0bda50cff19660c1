#!/usr/bin/env python3
"""The reset-flood figures: 1,000,000 RSTs on nginx upstream sockets as fast as this
machine allows (tests/e2e/flood_common.py does the work; test_reset_flood.py is the
CI-sized run with assertions). Root, nginx, cc and iproute2 needed.

  sudo bench/flood.py [--ngxwatch build/ngxwatch] [--requests 1000000] [--conc 64] [--workers 4]
"""

import argparse
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import flood_common  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--ngxwatch", default="build/ngxwatch")
p.add_argument("--requests", type=int, default=1_000_000)
p.add_argument("--conc", type=int, default=64)
p.add_argument("--workers", type=int, default=4)
p.add_argument("--json", help="also write the figures to this file")
a = p.parse_args()
nginx = shutil.which("nginx") or "/usr/sbin/nginx"
if os.geteuid() != 0 or not os.path.exists(nginx):
    sys.exit("bench/flood.py: needs root and nginx")
r = flood_common.run_flood(os.path.abspath(a.ngxwatch), nginx, a.requests, conc=a.conc,
                           workers=a.workers, settle_s=300)
print(flood_common.report(r))
if a.json:
    with open(a.json, "w") as f:
        json.dump({k: v for k, v in r.items() if k != "ngxwatch_resets_by_labels"}, f, indent=1, default=str)
exact = r["ngxwatch_resets"] == r["kernel"]["TcpExt.TCPAbortOnData"] == r["upstream_rsts"]
print("EXACT" if exact else "MISMATCH")
sys.exit(0 if exact else 1)
