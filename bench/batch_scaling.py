"""Batch scaling: 8 trials of a 1 s step, all measured in the same run.

    python bench/batch_scaling.py [--trials 8] [--reps 1] [--guild PATH] [--no-dask]

- guildls `--workers 1` (the reference), `--workers 4`: goal >= 3.5x faster;
- guildls `--dask` on a local cluster of 4 single-thread workers (`dask scheduler` + 4
  `dask worker`, started before timing): goal >= 3x faster than `--workers 1`;
- per-trial overhead (batch time - trials x 1 s) / trials, guildls `--workers 1` vs Guild's
  own batch (`guild run step i=[...] --keep-batch`): goal >= 10x smaller.

Times are the batch run's own record (`started` -> `stopped` of the batch run, the same for
guildls and Guild) and, for context, the whole command's wall time (Python start, imports -
for Dask the `distributed` import and the connection, which dominate on a loaded machine).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = sys.executable


def write_project(d: str) -> None:
    with open(os.path.join(d, "guild.yml"), "w") as f:
        f.write("step:\n  main: step\n  flags:\n    i: 0\n")
    with open(os.path.join(d, "step.py"), "w") as f:
        f.write("import time\ni = 0\ntime.sleep(1.0)\nprint('trial', i)\n")


def batch_seconds(home: str) -> float:
    """started -> stopped of the batch run (the run with a proto) in GUILD_HOME."""
    runs = os.path.join(home, "runs")
    for rid in os.listdir(runs):
        g = os.path.join(runs, rid, ".guild")
        if os.path.isdir(os.path.join(g, "proto")):
            with open(os.path.join(g, "attrs", "started")) as f:
                started = int(f.read().strip())
            with open(os.path.join(g, "attrs", "stopped")) as f:
                stopped = int(f.read().strip())
            return (stopped - started) / 1e6
    raise RuntimeError(f"no batch run in {runs}")


def run_one(cmd: list, project: str, home: str) -> tuple[float, float]:
    shutil.rmtree(home, ignore_errors=True)
    os.makedirs(home)
    env = dict(os.environ, GUILD_HOME=home, NO_IMPORT_FLAGS_PROGRESS="1")
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr[-2000:]}")
    return batch_seconds(home), wall


class LocalCluster:
    def __init__(self, n: int, logdir: str):
        dask = os.path.join(os.path.dirname(PY), "dask")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{port}"
        self.procs = []

        def start(name, cmd):
            log = open(os.path.join(logdir, name + ".log"), "w")
            self.procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True))
        start("scheduler", [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                            "--no-dashboard"])
        for i in range(n):
            start(f"w{i}", [dask, "worker", self.address, "--nthreads", "1",
                            "--no-dashboard", "--name", f"w{i}"])
        from distributed import Client
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                with Client(self.address, timeout=5, set_as_default=False) as c:
                    if len(c.scheduler_info().get("workers", {})) >= n:
                        return
            except Exception:
                pass
            time.sleep(0.2)
        self.close()
        raise RuntimeError("the local Dask cluster did not start")

    def close(self):
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--guild", default=os.environ.get("GUILD_EXE") or
                    os.path.join(ROOT, ".venv-guild", "bin", "guild"))
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()
    n = args.trials
    values = "[" + ",".join(str(i) for i in range(1, n + 1)) + "]"
    tmp = tempfile.mkdtemp(prefix="guildls-batch-bench-")
    project = os.path.join(tmp, "project")
    os.makedirs(project)
    write_project(project)
    home = os.path.join(tmp, "home")
    base = [PY, "-m", "guildls", "run", "step", f"i={values}", "-y"]
    configs = {"guildls --workers 1": base + ["--workers", "1"],
               "guildls --workers 4": base + ["--workers", "4"]}
    cluster = None
    if not args.no_dask:
        try:
            import distributed  # noqa: F401
            cluster = LocalCluster(4, tmp)
            configs["guildls --dask (4 local workers)"] = base + ["--dask", cluster.address]
        except ImportError:
            print("(Dask not installed: pip install 'guildls[dask]' - Dask skipped)")
    if os.path.exists(args.guild):
        configs["guild run (Guild 0.9.0)"] = [args.guild, "run", "step", f"i={values}",
                                             "--keep-batch", "-y"]
    else:
        print(f"(Guild not found at {args.guild}: its per-trial overhead is not measured)")
    results: dict = {k: [] for k in configs}
    try:
        for _ in range(args.reps):
            for name, cmd in configs.items():  # interleaved: the same load for all
                results[name].append(run_one(cmd, project, home))
    finally:
        if cluster is not None:
            cluster.close()
        shutil.rmtree(tmp, ignore_errors=True)
    med = {k: (statistics.median(b for b, _ in v), statistics.median(w for _, w in v))
           for k, v in results.items()}
    ref_b, ref_w = med["guildls --workers 1"]
    print(f"{n} trials of a 1 s step, median of {args.reps}; batch = the batch run's "
          "started->stopped, wall = the whole command")
    print(f"{'':36} {'batch s':>8} {'wall s':>8} {'speed-up (batch)':>17} "
          f"{'speed-up (wall)':>16} {'per-trial overhead':>19}")
    for name, (b, w) in med.items():
        sb = ref_b / b
        sw = ref_w / w
        sequential = "--workers 1" in name or name.startswith("guild run")
        over = f"{(b - n * 1.0) / n * 1000:16.0f} ms" if sequential else f"{'-':>19}"
        print(f"{name:36} {b:8.2f} {w:8.2f} {sb:16.2f}x {sw:15.2f}x {over}")
    over_ours = (ref_b - n) / n
    if "guild run (Guild 0.9.0)" in med:
        over_guild = (med["guild run (Guild 0.9.0)"][0] - n) / n
        print(f"per-trial overhead: Guild {over_guild * 1000:.0f} ms / guildls "
              f"{over_ours * 1000:.0f} ms = {over_guild / max(over_ours, 1e-6):.1f}x smaller "
              "(goal >= 10x)")
    print(f"--workers 4 vs --workers 1: {ref_b / med['guildls --workers 4'][0]:.2f}x "
          "(goal >= 3.5x)")
    dk = "guildls --dask (4 local workers)"
    if dk in med:
        print(f"Dask vs --workers 1: {ref_b / med[dk][0]:.2f}x batch time, "
              f"{ref_w / med[dk][1]:.2f}x wall (goal >= 3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
