"""Growth exponents of the model and of the diagnostics as guild files grow.

Usage: python bench/growth.py [--sizes 100,300,1000,3000,10000,20000] [--gen flat,realistic]
                              [--repeat 3]

For each generator of bench/gen.py and each size it times, in CPU time of this process (so
that other processes on a busy machine weigh less), (1) libyaml's compose of the text with
GC paused, the reference; (2) the positioned model (``load``); (3) every diagnostic of that
model (``diagnose``). The three are timed in turn within each repetition, so that the
machine's drift hits them alike, each after a collection outside the timing (no collection
inside one of them scans what an earlier one left: the server freezes each model once
built, see guildls.model.collector). It prints the best times, the ratio of model +
diagnostics to compose (best and median over the repetitions, each repetition's own
ratio), the time a collection of the young generation right after would take (what a
caller that keeps models and the collector on pays once per model; not in the ratio), and
the growth exponent k of each (least squares of log t = k log n + c over all sizes, on
best times; 1.0 is linear). Goal: diagnostics exponent <= 1.1 on both generators, and
model + diagnostics at 1,000 operations within 2x of compose with GC paused.
"""

import argparse
import gc
import math
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from check_latency import Loader, yaml  # noqa: E402  (also puts server/ on the path)
from gen import GENERATORS  # noqa: E402
from guildls.analysis.diagnostics import diagnose  # noqa: E402
from guildls.model import load  # noqa: E402


def exponent(sizes, times):
    xs = [math.log(n) for n in sizes]
    ys = [math.log(max(t, 1e-9)) for t in times]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def one_round(text):
    """CPU seconds of (compose with GC paused, load, diagnose) for one repetition, and of
    the young-generation collection right after, and the number of problems."""
    pt = time.process_time
    gc.collect()
    gc.disable()
    t = pt()
    yaml.compose(text, Loader=Loader)
    c = pt() - t
    gc.enable()
    gc.collect()
    # (nothing allocated between the clock and the call: an allocation with the collector
    # on could start a collection inside the timing)
    t = pt()
    gf = load(text)
    m = pt() - t
    t = pt()
    problems = diagnose(gf)
    d = pt() - t
    t = pt()
    gc.collect(0)
    young = pt() - t
    gf.dispose()
    return c, m, d, young, len(problems)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,300,1000,3000,10000,20000")
    ap.add_argument("--gen", default="flat,realistic")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"Python {sys.version.split()[0]}; CPU time; best of {args.repeat} rounds "
          f"({max(1, args.repeat - 1)} above 5,000 ops), each round times compose, model and diagnostics in turn")
    for gname in args.gen.split(","):
        gen = GENERATORS[gname]
        print(f"\n[{gname}]")
        print(f"{'ops':>6} {'lines':>7} {'compose(gc off) ms':>19} {'model ms':>9} {'diags ms':>9} "
              f"{'(model+diags)/compose best, median':>35} {'young gc ms':>12} {'problems':>9}")
        t_c, t_m, t_d = [], [], []
        for n in sizes:
            text = gen(n)
            rep = args.repeat if n <= 5000 else max(1, args.repeat - 1)
            rounds = [one_round(text) for _ in range(rep)]
            c = min(r[0] for r in rounds)
            m = min(r[1] for r in rounds)
            d = min(r[2] for r in rounds)
            ratios = [(r[1] + r[2]) / r[0] for r in rounds]
            t_c.append(c)
            t_m.append(m)
            t_d.append(d)
            print(f"{n:>6} {text.count(chr(10)):>7} {c * 1000:>19.1f} {m * 1000:>9.1f} {d * 1000:>9.1f} "
                  f"{min(ratios):>26.2f}x, {statistics.median(ratios):.2f}x "
                  f"{min(r[3] for r in rounds) * 1000:>12.1f} {rounds[-1][4]:>9}", flush=True)
        if len(sizes) < 2:
            continue
        print(f"growth exponent: compose {exponent(sizes, t_c):.2f}, model {exponent(sizes, t_m):.2f}, "
              f"diagnostics {exponent(sizes, t_d):.2f}")


if __name__ == "__main__":
    main()
