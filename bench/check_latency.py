"""Latency of model + diagnostics against the bare libyaml compose of the same text.

Usage: python bench/check_latency.py [--sizes 100,1000,5000] [--repeat 9]

For each size it prints the median time of (1) yaml.compose with the C loader alone
(the reference, measured in the same run; also with Python's cyclic GC paused, as
guildls pauses it while it builds the model) and (2) guildls' full path: positioned model
plus every diagnostic. The goal: (2) within 3x of (1), and under 100 ms at 1,000 ops.
"""

import argparse
import gc
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "server"))
sys.path.insert(0, HERE)

import yaml  # noqa: E402

from gen import guildfile  # noqa: E402
from guildls.analysis.diagnostics import diagnose  # noqa: E402
from guildls.model import HAVE_LIBYAML, load  # noqa: E402

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,1000,5000")
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()
    print(f"libyaml C loader: {HAVE_LIBYAML}; Python {sys.version.split()[0]}; median of {args.repeat} runs")
    print(f"{'ops':>6} {'lines':>7} {'compose ms':>11} {'(gc off)':>9} {'model+diags ms':>15} {'ratio':>6} "
          f"{'vs gc off':>9} {'problems':>9}")
    for n in (int(s) for s in args.sizes.split(",")):
        text = guildfile(n)
        t_compose = median_time(lambda: yaml.compose(text, Loader=Loader), args.repeat)

        def compose_gc_off():
            gc.disable()
            try:
                yaml.compose(text, Loader=Loader)
            finally:
                gc.enable()

        t_compose_nogc = median_time(compose_gc_off, args.repeat)
        result = {}

        def full():
            result["d"] = diagnose(load(text))

        t_full = median_time(full, args.repeat)
        print(f"{n:>6} {text.count(chr(10)):>7} {t_compose * 1000:>11.1f} {t_compose_nogc * 1000:>9.1f} "
              f"{t_full * 1000:>15.1f} {t_full / t_compose:>5.2f}x {t_full / t_compose_nogc:>8.2f}x "
              f"{len(result['d']):>9}")


if __name__ == "__main__":
    main()
