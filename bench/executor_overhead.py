#!/usr/bin/env python3
"""Per-step overhead of guildls' bundled executor.

A workflow of 10 steps whose operations do nothing (`main: noop`, an empty module) is run
with the executor several times; the wall time of each step (from one step's start to the
next, so it includes the link, the run record, the source copy, the process start and the
finalisation) is collected. In the same run we time the floor, a bare `python -c pass`
with the same interpreter, and -- when Guild is installed -- `guild run wf -y` (its
per-step time is the wall time of the whole workflow divided by 10).

    python bench/executor_overhead.py [--reps 5] [--guild PATH] [--no-guild]

Guild is looked up at --guild, $GUILD_EXE, the repository's .venv-guild (`make oracle`
builds it), then `guild` on PATH.

Goals (issue 4): per-step overhead under 3x the floor, and at least 10x faster than Guild.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "server"))

STEPS = 10


def make_project(root: str) -> str:
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "noop.py"), "w") as f:
        f.write("")
    lines = []
    for i in range(STEPS):
        lines.append(f"s{i}:\n  main: noop\n")
    lines.append("wf:\n  steps:\n" + "".join(f"    - s{i}\n" for i in range(STEPS)))
    with open(os.path.join(root, "guild.yml"), "w") as f:
        f.write("\n".join(lines))
    return root


def bench_executor(project: str, reps: int) -> tuple[list[float], float]:
    from guildls.executor.plan import build_plan
    from guildls.executor.runner import Runner
    from guildls.model import load

    path = os.path.join(project, "guild.yml")
    per_step: list[float] = []
    totals = []
    for _ in range(reps):
        home = tempfile.mkdtemp(prefix="guildls-bench-home-")
        env = dict(os.environ, GUILD_HOME=home)
        t0 = time.perf_counter()
        with open(path) as f:
            gf = load(f.read(), path)
        plan = build_plan(gf, "wf", [], project_dir=project)
        marks: list[float] = []

        def on_event(ev):
            if ev["type"] == "step-started":
                marks.append(time.perf_counter())

        res = Runner(plan, project, path, env=env, on_event=on_event).run()
        end = time.perf_counter()
        assert res.exit_code == 0, res
        totals.append(end - t0)
        marks.append(end)
        per_step += [b - a for a, b in zip(marks, marks[1:])]
        shutil.rmtree(home, ignore_errors=True)
    return per_step, statistics.median(totals)


def bench_floor(n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], stdin=subprocess.DEVNULL, check=True)
        out.append(time.perf_counter() - t0)
    return out


def find_guild(explicit: str | None) -> str | None:
    for cand in (explicit, os.environ.get("GUILD_EXE"),
                 os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".venv-guild", "bin", "guild"),
                 shutil.which("guild")):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


def bench_guild(guild: str, project: str, reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        home = tempfile.mkdtemp(prefix="guild-bench-home-")
        env = dict(os.environ, GUILD_HOME=home)
        # warm-up in this GUILD_HOME ("Refreshing flags..." happens once per home)
        subprocess.run([guild, "ops"], cwd=project, env=env, capture_output=True)
        t0 = time.perf_counter()
        p = subprocess.run([guild, "run", "wf", "-y"], cwd=project, env=env,
                           capture_output=True, stdin=subprocess.DEVNULL)
        dt = time.perf_counter() - t0
        if p.returncode != 0:
            sys.stderr.write(p.stderr.decode(errors="replace"))
            raise SystemExit(f"guild run failed ({p.returncode})")
        out.append(dt / STEPS)
        shutil.rmtree(home, ignore_errors=True)
    return out


def ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5, help="workflow repetitions (default 5)")
    ap.add_argument("--guild-reps", type=int, default=1, help="guild repetitions (default 1)")
    ap.add_argument("--guild", help="path to a `guild` executable")
    ap.add_argument("--no-guild", action="store_true", help="skip the Guild comparison")
    args = ap.parse_args(argv)

    tmp = tempfile.mkdtemp(prefix="guildls-bench-")
    try:
        project = make_project(os.path.join(tmp, "proj"))
        bench_executor(project, 1)  # warm caches (imports, page cache)
        # interleaved, so both see the same machine load (shared CI boxes are noisy)
        floors: list[float] = []
        steps: list[float] = []
        totals: list[float] = []
        for _ in range(args.reps):
            floors += bench_floor(STEPS)
            s, t = bench_executor(project, 1)
            steps += s
            totals.append(t)
        floor = statistics.median(floors)
        total = statistics.median(totals)
        ours = statistics.median(steps)
        print(f"workflow: {STEPS} steps of `main: noop`, {args.reps} repetitions, "
              f"python {sys.version.split()[0]}")
        print(f"floor     python -c pass          median {ms(floor)}")
        print(f"guildls   per step                median {ms(ours)}   "
              f"(whole workflow median {ms(total)})")
        print(f"ratio     guildls / floor         {ours / floor:.2f}x   (goal < 3x)")
        guild = None if args.no_guild else find_guild(args.guild)
        if guild is None:
            print("guild     not installed: see the docstring of this script to install it "
                  "in a separate venv, then pass --guild PATH")
        else:
            g = statistics.median(bench_guild(guild, project, args.guild_reps))
            print(f"guild     per step (run wf -y)    median {ms(g)}   [{guild}]")
            print(f"ratio     guild / guildls         {g / ours:.1f}x   (goal >= 10x)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
