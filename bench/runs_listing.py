"""Listing 1,000 recorded runs: `guildls runs --format json` against `guild runs -a` on the same
runs, in the same run of this script, and `guildls.listRuns` through the language server.

Usage: python bench/runs_listing.py [--runs 1000] [--repeat 5] [--guild PATH]

Records: the seed example's end-to-end workflow is run once with guildls (4 runs: workflow +
3 steps, with output scalars), then copied as whole groups under new ids (step links rewired,
times shifted) until there are --runs runs. Reference: real Guild 0.9.0 (`.venv-guild/bin/guild`,
or --guild / $GUILD_EXE). Both commands run as fresh processes; medians of --repeat. guildls
keeps finished runs' records in `<guild home>/cache/guildls-runs.json` (checked against three
stats per run): its very first call, without that file, is reported apart. The language server is timed cold (first call) and warm (later calls,
the finished runs cached by their directories' modification times).
Goals: CLI >= 10x faster than `guild runs`; listRuns over LSP < 200 ms.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def make_runs(base: str, n: int) -> tuple[str, str]:
    proj = os.path.join(base, "seed")
    shutil.copytree(os.path.join(REPO, "examples", "seed"), proj,
                    ignore=shutil.ignore_patterns(".guild"))
    home = os.path.join(base, "guild-home")
    os.makedirs(home)
    env = dict(os.environ, GUILD_HOME=home)
    subprocess.run([sys.executable, "-m", "guildls", "run", "-C", proj, "end-to-end", "--yes"],
                   env=env, check=True, capture_output=True)
    runs = os.path.join(home, "runs")
    group = sorted(os.listdir(runs))
    k = 1
    while len(os.listdir(runs)) < n:
        new = {old: uuid.uuid4().hex for old in group}
        for old, nid in new.items():
            dst = os.path.join(runs, nid)
            shutil.copytree(os.path.join(runs, old), dst, symlinks=True)
            for name in os.listdir(dst):
                p = os.path.join(dst, name)
                if os.path.islink(p):
                    target = os.path.basename(os.readlink(p))
                    os.remove(p)
                    os.symlink(f"../{new.get(target, target)}", p)
            attrs = os.path.join(dst, ".guild", "attrs")
            with open(os.path.join(attrs, "id"), "w") as f:
                f.write(nid + "\n")
            for a in ("started", "stopped", "initialized"):
                p = os.path.join(attrs, a)
                if os.path.exists(p):
                    with open(p) as f:
                        v = int(f.read().strip())
                    with open(p, "w") as f:
                        f.write(f"{v - k * 60_000_000}\n")
            if len(os.listdir(runs)) >= n:
                break
        k += 1
    return proj, home


CPU: dict = {}  # command name -> CPU seconds (user + system) of each call


def timed(cmd, env, cwd) -> tuple[float, bytes]:
    """Wall time of one fresh process; its CPU time goes to CPU[cmd[-1 or 1]] (on a loaded
    machine the wall time of short processes mostly measures waiting for a core)."""
    import resource

    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True)
    dt = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {p.stderr.decode()[-2000:]}")
    CPU.setdefault("guild" if "guildls" not in cmd else "guildls", []).append(
        (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
    return dt, p.stdout


class Lsp:
    """A minimal JSON-RPC client over the server's stdio."""

    def __init__(self, env, cwd):
        self.p = subprocess.Popen([sys.executable, "-m", "guildls", "serve"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, env=env, cwd=cwd)
        self.n = 0

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def read(self):
        length = None
        while True:
            line = self.p.stdout.readline()
            if line in (b"\r\n", b"\n"):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.p.stdout.read(length))

    def request(self, method, params):
        self.n += 1
        rid = self.n
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        while True:
            msg = self.read()
            if msg.get("id") == rid and "method" not in msg:
                if "error" in msg:
                    raise SystemExit(f"{method}: {msg['error']}")
                return msg["result"]

    def close(self):
        try:
            self.request("shutdown", None)
            self.send({"jsonrpc": "2.0", "method": "exit"})
            self.p.wait(10)
        except Exception:
            self.p.kill()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--guild", default=os.environ.get("GUILD_EXE") or os.path.join(REPO, ".venv-guild", "bin", "guild"))
    a = ap.parse_args()
    base = tempfile.mkdtemp(prefix="guildls-bench-runs-")
    try:
        proj, home = make_runs(base, a.runs)
        n = len(os.listdir(os.path.join(home, "runs")))
        env = dict(os.environ, GUILD_HOME=home)
        # as installed: Python may keep compiled modules (pip compiles Guild's at install; an
        # editable guildls compiles on its first call). Without this, a shell exporting
        # PYTHONDONTWRITEBYTECODE makes guildls compile its sources on every call.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        ours, theirs = [], []
        cache = os.path.join(home, "cache", "guildls-runs.json")
        if os.path.exists(cache):
            os.remove(cache)
        first, out = timed([sys.executable, "-m", "guildls", "runs", "--format", "json"], env, proj)
        for _ in range(a.repeat):
            dt, out = timed([sys.executable, "-m", "guildls", "runs", "--format", "json"], env, proj)
            ours.append(dt)
            if os.path.exists(a.guild):
                dt, gout = timed([a.guild, "runs", "-a"], env, proj)
                theirs.append(dt)
        listed = json.loads(out)
        assert len(listed) == n, (len(listed), n)
        mo = statistics.median(ours)
        print(f"{n} runs (guildls end-to-end groups of 4, with scalars), median of {a.repeat}, fresh processes:")
        print(f"  guildls runs --format json : {mo * 1000:8.0f} ms "
              f"(first call, before its cache file existed: {first * 1000:.0f} ms)")
        if theirs:
            mt = statistics.median(theirs)
            assert len([ln for ln in gout.decode().splitlines() if ln.startswith("[")]) == n
            print(f"  guild runs -a (Guild 0.9.0): {mt * 1000:8.0f} ms")
            print(f"  ratio: guildls is {mt / mo:.1f}x faster (goal >= 10x); "
                  f"first call without cache file: {mt / first:.1f}x")
            co = statistics.median(CPU["guildls"][1:])  # [0]: the first call, without cache file
            ct = statistics.median(CPU["guild"])
            print(f"  CPU time (user + system), medians: guildls {co * 1000:.0f} ms, guild {ct * 1000:.0f} ms: "
                  f"{ct / co:.1f}x less; load average {os.getloadavg()[0]:.1f}")
        else:
            print(f"  guild runs: not measured ({a.guild} not found; make oracle)")
        lsp = Lsp(env, proj)
        try:
            lsp.request("initialize", {"processId": None, "rootUri": None, "capabilities": {},
                                       "initializationOptions": {"runsPollInterval": 0}})
            lsp.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
            args = {"command": "guildls.listRuns", "arguments": [{"cwd": proj}]}
            t = time.perf_counter()
            res = lsp.request("workspace/executeCommand", args)
            cold = time.perf_counter() - t
            assert len(res) == n
            warm = []
            for _ in range(a.repeat):
                t = time.perf_counter()
                res = lsp.request("workspace/executeCommand", args)
                warm.append(time.perf_counter() - t)
            assert len(res) == n
        finally:
            lsp.close()
        mw = statistics.median(warm)
        print(f"  guildls.listRuns over LSP  : first call {cold * 1000:.0f} ms, then median "
              f"{mw * 1000:.0f} ms (goal < 200 ms); first call / guild runs -a = "
              + (f"{statistics.median(theirs) / cold:.1f}x faster" if theirs else "n/a"))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
