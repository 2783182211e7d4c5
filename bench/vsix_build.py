#!/usr/bin/env python3
"""How long `make vsix` takes, cold and with nothing changed (same run, same machine).

    python bench/vsix_build.py [--runs 3]

- reference: a cold build of this machine's target, as every `make vsix` was before the
  bundle cache: the cached bundle and wheels removed, so the wheels are downloaded again,
  the bundle assembled and the .vsix packaged;
- the bundle step forced (--force): assembled again from the cached wheels;
- the bundle step with nothing changed: it hashes its inputs and stops;
- `make vsix` with nothing changed.
Prints each time (median of --runs) and its ratio to the reference.
"""
from __future__ import annotations

import argparse
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
BUNDLE = REPO / "client-vscode" / "scripts" / "bundle_python.py"


def timed(cmd: list) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stdout[-3000:]}")
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    py = str(REPO / ".venv" / "bin" / "python")
    target = subprocess.run([py, str(BUNDLE), "--local-target"], stdout=subprocess.PIPE, text=True).stdout.strip()
    cache = REPO / "build" / "bundle-cache"
    vsix = sorted((REPO / "client-vscode").glob(f"guildls-*-{target}.vsix"))

    def cold():
        shutil.rmtree(cache / target, ignore_errors=True)
        shutil.rmtree(cache / "wheels", ignore_errors=True)
        for v in vsix:
            v.unlink(missing_ok=True)
        return timed(["make", "vsix"])

    ref = cold()
    rebuild = statistics.median(
        [timed([py, str(BUNDLE), "--target", target, "--force"]) for _ in range(a.runs)])
    noop = statistics.median([timed(["make", "vsix"]) for _ in range(a.runs)])
    bundle_noop = statistics.median([timed([py, str(BUNDLE), "--target", target]) for _ in range(a.runs)])
    print(f"target {target}")
    print(f"reference: cold make vsix (download + bundle + package)  {ref:7.2f} s  1.000")
    print(f"bundle step forced, wheels cached                         {rebuild:7.2f} s  {rebuild / ref:.3f}")
    print(f"bundle step, nothing changed                              {bundle_noop:7.2f} s  {bundle_noop / ref:.3f}")
    print(f"make vsix, nothing changed                                {noop:7.2f} s  {noop / ref:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
