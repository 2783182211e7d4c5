"""Growth exponents of the model and of the diagnostics as guild files grow.

Usage: python bench/growth.py [--sizes 100,300,1000,3000,10000,20000] [--gen flat,realistic]
                              [--repeat 3]

For each generator of bench/gen.py and each size it times (the best of --repeat runs, in
CPU time of this process, so that other processes on a busy machine weigh less) (1) libyaml's compose of the text with GC paused, the
reference; (2) the positioned model (``load``); (3) every diagnostic of the loaded model
(``diagnose``). It prints the times, the ratio of model + diagnostics to compose, and the
growth exponent k of each (least squares of log t = k log n + c over all sizes; 1.0 is
linear). Goal: diagnostics exponent <= 1.1 on both generators, and model + diagnostics at
1,000 operations within 2x of compose with GC paused.
"""

import argparse
import gc
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from check_latency import Loader, yaml  # noqa: E402  (also puts server/ on the path)
from gen import GENERATORS  # noqa: E402
from guildls.analysis.diagnostics import diagnose  # noqa: E402
from guildls.model import load  # noqa: E402


def best_cpu_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def exponent(sizes, times):
    xs = [math.log(n) for n in sizes]
    ys = [math.log(max(t, 1e-9)) for t in times]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def compose_gc_off(text):
    gc.disable()
    try:
        yaml.compose(text, Loader=Loader)
    finally:
        gc.enable()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,300,1000,3000,10000,20000")
    ap.add_argument("--gen", default="flat,realistic")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"Python {sys.version.split()[0]}; CPU time, best of {args.repeat} runs ({max(1, args.repeat - 1)} above 5,000 ops)")
    for gname in args.gen.split(","):
        gen = GENERATORS[gname]
        print(f"\n[{gname}]")
        print(f"{'ops':>6} {'lines':>7} {'compose(gc off) ms':>19} {'model ms':>9} {'diags ms':>9} "
              f"{'(model+diags)/compose':>22} {'problems':>9}")
        t_c, t_m, t_d = [], [], []
        for n in sizes:
            text = gen(n)
            rep = args.repeat if n <= 5000 else max(1, args.repeat - 1)
            c = best_cpu_time(lambda: compose_gc_off(text), rep)
            gfs = []
            m = best_cpu_time(lambda: gfs.append(load(text)), rep)
            gf = gfs[-1]
            res = {}
            d = best_cpu_time(lambda: res.__setitem__("d", diagnose(gf)), rep)
            for g in gfs:
                g.dispose()
            gfs.clear()
            t_c.append(c)
            t_m.append(m)
            t_d.append(d)
            print(f"{n:>6} {text.count(chr(10)):>7} {c * 1000:>19.1f} {m * 1000:>9.1f} {d * 1000:>9.1f} "
                  f"{(m + d) / c:>21.2f}x {len(res['d']):>9}", flush=True)
        if len(sizes) < 2:
            continue
        print(f"growth exponent: compose {exponent(sizes, t_c):.2f}, model {exponent(sizes, t_m):.2f}, "
              f"diagnostics {exponent(sizes, t_d):.2f}")


if __name__ == "__main__":
    main()
