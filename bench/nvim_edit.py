"""guildls vs yaml-language-server through Neovim's LSP client (same files, same run).

Usage: python bench/nvim_edit.py [--sizes 1000,5000,20000] [--runs 3] [--gen realistic]
                                 [--no-yamlls] [--harness DIR]

For each size, a guild file from bench/gen.py is opened in headless Neovim by the
real-client harness (`bench_nvim.py`, `bench_yamlls.sh` of the shared real-clients tools,
found through --harness or $REAL_CLIENTS_DIR). Neovim's didChange debounce and guildls's
are both off. Timed inside Neovim: open -> first diagnostics (initialize result -> first
publishDiagnostics) and change -> diagnostics for a one-line edit in the middle of the file
(a flag default changes). yaml-language-server gets guildls's JSON schema for the file
(its own ~200 ms validation delay is part of its figures, by its design). Also prints
the peak RSS of each server (from /proc, polled). Goals: change -> diagnostics < 100 ms
at 5,000 ops and >= 5x faster than yaml-language-server; open -> diagnostics >= 2x faster
at every size; RSS at 20,000 ops below yaml-language-server's.

--floor adds a third server, bench/floor_server.py: it publishes guildls's own diagnostics
for the file again on every didChange without any work, so its change -> diagnostics is
what Neovim itself spends on the edit and on the publish (the part no server can remove).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from gen import GENERATORS  # noqa: E402

SCHEMA = os.path.join(ROOT, "server", "guildls", "schema", "guildfile.schema.json")


def edit_line(text):
    """(0-based line, new text) of a one-line edit in the middle: a flag default changes."""
    lines = text.split("\n")
    mid = len(lines) // 2
    for i in range(mid, len(lines)):
        m = re.match(r"^(\s+)(seed|rows|epochs): (\d+)$", lines[i])
        if m:
            return i, f"{m.group(1)}{m.group(2)}: {int(m.group(3)) + 1}"
    raise SystemExit("no line to edit")


class RssPeak(threading.Thread):
    """Peak RSS (MB) of processes whose command line contains `needle` (children of this run)."""

    def __init__(self, needle):
        super().__init__(daemon=True)
        self.needle, self.peak, self.stop = needle, 0.0, False

    def run(self):
        me = os.getpid()
        while not self.stop:
            for pid in os.listdir("/proc"):
                if not pid.isdigit() or int(pid) == me:
                    continue
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
                    if self.needle not in cmd or "nvim" in cmd.split(" ")[0]:
                        continue
                    with open(f"/proc/{pid}/status") as f:
                        for line in f:
                            if line.startswith("VmRSS:"):
                                self.peak = max(self.peak, int(line.split()[1]) / 1024)
                except OSError:
                    continue
            time.sleep(0.05)


def run_bench(cmd, env, needle):
    rss = RssPeak(needle)
    rss.start()
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        p = subprocess.run(cmd + ["--json", out.name] if cmd[0].endswith(".py") else cmd, env=env,
                           capture_output=True, text=True)
        rss.stop = True
        rss.join()
        summary = {}
        if cmd[0].endswith(".py"):
            try:
                summary = json.load(open(out.name)).get("summary_ms", {})
            except (OSError, ValueError):
                pass
        else:
            for m in re.finditer(r"^\s+(\w+)\s+median\s+([\d.]+)", p.stdout, re.M):
                summary[m.group(1)] = {"median": float(m.group(2))}
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-2000:] + p.stderr[-2000:])
    return summary, rss.peak


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--gen", default="realistic")
    ap.add_argument("--no-yamlls", action="store_true")
    ap.add_argument("--floor", action="store_true", help="also time bench/floor_server.py (Neovim's own share)")
    ap.add_argument("--harness", default=os.environ.get("REAL_CLIENTS_DIR", os.path.join(ROOT, "..", "shared", "tools",
                                                                                         "real-clients")))
    args = ap.parse_args()
    harness = os.path.abspath(args.harness)
    py = sys.executable
    rows = []
    with tempfile.TemporaryDirectory() as d:
        init = os.path.join(d, "init.json")
        with open(init, "w") as f:
            json.dump({"debounce": 0}, f)
        for n in (int(s) for s in args.sizes.split(",")):
            folder = os.path.join(d, f"p{n}")
            os.makedirs(folder)
            path = os.path.join(folder, "guild.yml")
            text = GENERATORS[args.gen](n)
            with open(path, "w") as f:
                f.write(text)
            line, new = edit_line(text)
            env = dict(os.environ, PROBE_MIN_DIAGS="0", PROBE_EDIT_LINE=str(line), PROBE_EDIT_TEXT=new,
                       PROBE_SKIP="codelens,execute", PROBE_TIMEOUT_MS="300000", PROBE_DEBOUNCE_MS="0")
            g_env = dict(env, PROBE_INIT_OPTIONS_JSON=init)
            g, g_rss = run_bench([os.path.join(harness, "bench_nvim.py"), "--runs", str(args.runs),
                                  f"{py} -m guildls serve", path, "2", "4"], g_env, "guildls serve")
            y, y_rss = ({}, 0.0) if args.no_yamlls else run_bench(
                [os.path.join(harness, "bench_yamlls.sh"), SCHEMA, path, "2", "4", str(args.runs)], env,
                "yaml-language-server")
            f = {}
            if args.floor:
                f, _ = run_bench([os.path.join(harness, "bench_nvim.py"), "--runs", str(args.runs),
                                  f"{py} {os.path.join(HERE, 'floor_server.py')}", path, "2", "4"], env, "floor_server")
            rows.append((n, text.count("\n"), g, g_rss, y, y_rss, f))
            print_row(rows[-1])
    print("\nsummary (medians, ms; ratio = yaml-language-server / guildls)")
    for r in rows:
        print_row(r)


def _m(s, k):
    v = s.get(k, {}).get("median")
    return v


def print_row(row):
    n, lines, g, g_rss, y, y_rss, f = row

    def cell(k):
        a, b = _m(g, k), _m(y, k)
        ratio = f"{b / a:6.1f}x" if a and b else "     -"
        return f"{k}: guildls {a if a is not None else '-':>8} yamlls {b if b is not None else '-':>8} {ratio}"

    print(f"{n:>6} ops ({lines} lines)")
    for k in ("init_to_diagnostics", "change_to_diagnostics", "completion", "hover"):
        print("   " + cell(k))
    if f:
        print(f"   floor (Neovim's own share, bench/floor_server.py): change_to_diagnostics {_m(f, 'change_to_diagnostics')}")
    print(f"   peak RSS MB: guildls {g_rss:.0f} yamlls {y_rss:.0f}", flush=True)


if __name__ == "__main__":
    main()
