#!/usr/bin/env python3
"""Taxonomy row "upstream closed a reused keepalive connection (idle-timeout race)",
RST variant: the backend closes with SO_LINGER 0.

See taxonomy_common.keepalive_race for the scenario and the assertions."""

import harness as h
import taxonomy_common as t


def body(args, nginx_bin):
    t.keepalive_race(args, nginx_bin, "rst")


if __name__ == "__main__":
    h.run_test(body)
