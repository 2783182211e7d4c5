"""Cold start: `guildls check` of a small file and server spawn -> first diagnostics.

Usage: python bench/startup.py [--runs 15]

Medians over --runs fresh processes, all measured in the same run, interleaved, after one
untimed run of each (which writes the bytecode caches, as installing a package does):
- `python -c "import yaml"` (reference) vs `python -m guildls check FILE` on a 20-line
  guild file. Goal: <= 3x.
- spawn -> first publishDiagnostics of `python -m guildls serve` vs bench/bare_server.py,
  a pygls server that publishes an empty list on didOpen (the floor). The client is this
  script speaking JSON-RPC over the pipes. Goal: <= 1.2x.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER_DIR = os.path.join(HERE, "..", "server")

SMALL = """\
prepare:
  description: Prepare data
  main: prepare
  flags:
    rows: {default: 100, type: int, min: 1}
train:
  description: Train
  main: train --lr ${lr}
  flags:
    lr: {default: 0.1, type: float, min: 0, max: 1}
    epochs: 10
    opt: {default: sgd, choices: [sgd, adam]}
  requires:
    - operation: prepare
      select: data.csv
pipeline:
  steps:
    - prepare rows=50
    - run: train
      flags: {lr: 0.2}
"""


def env():
    e = dict(os.environ)
    # an installed package has its bytecode compiled (pip does it); with
    # PYTHONDONTWRITEBYTECODE set, every run would compile guildls from source while
    # PyYAML and pygls come from site-packages with theirs: not what users start
    e.pop("PYTHONDONTWRITEBYTECODE", None)
    e["PYTHONPATH"] = os.path.abspath(SERVER_DIR) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def wall(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env(), check=False)
    return time.perf_counter() - t


def _send(proc, msg):
    body = json.dumps(msg).encode()
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    proc.stdin.flush()


def _read(proc):
    length = None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("server exited")
        line = line.strip()
        if not line:
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return json.loads(proc.stdout.read(length))


def spawn_to_diagnostics(cmd, path, text):
    """Seconds from spawning the server to its first publishDiagnostics for `path`."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=env())
    try:
        uri = "file://" + path
        _send(proc, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                     "params": {"processId": os.getpid(), "rootUri": None, "capabilities": {}}})
        while _read(proc).get("id") != 1:
            pass
        _send(proc, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
        _send(proc, {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "yaml", "version": 1, "text": text}}})
        while True:
            msg = _read(proc)
            if msg.get("method") == "textDocument/publishDiagnostics" and msg["params"]["uri"] == uri:
                elapsed = time.perf_counter() - t
                break
        _send(proc, {"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None})
        _send(proc, {"jsonrpc": "2.0", "method": "exit", "params": None})
        proc.wait(timeout=30)
        return elapsed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "guild.yml")
        with open(path, "w") as f:
            f.write(SMALL)
        res = {k: [] for k in ("yaml", "check", "bare", "serve")}
        # once untimed: writes the bytecode caches (as an install does), warms the disk cache
        wall([py, "-c", "import yaml"])
        wall([py, "-m", "guildls", "check", path])
        spawn_to_diagnostics([py, os.path.join(HERE, "bare_server.py")], path, SMALL)
        spawn_to_diagnostics([py, "-m", "guildls", "serve"], path, SMALL)
        for _ in range(args.runs):  # interleaved, so that machine load hits all alike
            res["yaml"].append(wall([py, "-c", "import yaml"]))
            res["check"].append(wall([py, "-m", "guildls", "check", path]))
            res["bare"].append(spawn_to_diagnostics([py, os.path.join(HERE, "bare_server.py")], path, SMALL))
            res["serve"].append(spawn_to_diagnostics([py, "-m", "guildls", "serve"], path, SMALL))
    med = {k: statistics.median(v) for k, v in res.items()}
    print(f"Python {sys.version.split()[0]}; median of {args.runs} fresh processes")
    print(f"python -c 'import yaml'            {med['yaml'] * 1000:8.1f} ms")
    print(f"guildls check (20 lines)           {med['check'] * 1000:8.1f} ms   {med['check'] / med['yaml']:.2f}x "
          "(goal <= 3x)")
    print(f"bare pygls: spawn -> diagnostics   {med['bare'] * 1000:8.1f} ms")
    print(f"guildls serve: spawn -> diagnostics{med['serve'] * 1000:8.1f} ms   {med['serve'] / med['bare']:.2f}x "
          "(goal <= 1.2x)")


if __name__ == "__main__":
    main()
