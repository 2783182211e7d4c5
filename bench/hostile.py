"""Hostile inputs through `guildls check`, `guildls run --plan` and the server: time of
each against a trivial guild file measured in the same run (ratios), and whether the
server still answers a trivial request afterwards.

    python bench/hostile.py [--repeat 3] [--only alias-bomb,huge-int]

The server figure is didOpen -> publishDiagnostics of that document, then a hover on
a trivial document must be answered.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.fuzz import shapes  # noqa: E402
from tests.fuzz.rawclient import RawClient  # noqa: E402

TRIVIAL = "op:\n  main: x\n  flags: {lr: 0.1}\nwf:\n  steps: [op]\n"


def cli_time(args, cwd):
    t = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "guildls", *args], cwd=cwd, capture_output=True, text=True)
    return time.monotonic() - t, r


def server_time(client, uri, text, n):
    t = time.monotonic()  # before sending: the diagnostics may arrive before notify returns
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                            "text": text}})
    with client.cond:
        while not any(m["method"] == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
                      for m in client.notifications[n:]):
            if not client.cond.wait(120):
                return None
    took = time.monotonic() - t
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    cases = {k: f() for k, f in shapes.ALL.items() if not args.only or k in args.only.split(",")}
    with tempfile.TemporaryDirectory() as tmp:
        client = RawClient(cwd=tmp)
        client.initialize()
        triv_uri = f"file://{tmp}/trivial/guild.yml"
        os.makedirs(os.path.join(tmp, "trivial"))
        with open(os.path.join(tmp, "trivial", "guild.yml"), "w") as f:
            f.write(TRIVIAL)
        rows = []
        for name, text in [("trivial (reference)", TRIVIAL)] + list(cases.items()):
            d = os.path.join(tmp, name.split(" (")[0].replace(" ", "_").replace("[", "sq").replace("{", "cu"))
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "guild.yml"), "w") as f:
                f.write(text)
            chk, plan, srv = [], [], []
            for i in range(args.repeat):
                t, r = cli_time(["check", d], tmp)
                chk.append(t)
                assert "Traceback" not in r.stderr, r.stderr[-2000:]
                t, r = cli_time(["run", "-C", d, "wf" if "wf:" in text else "op", "--plan"], tmp)
                plan.append(t)
                assert "Traceback" not in r.stderr, r.stderr[-2000:]
                uri = f"file://{d}/v{i}/guild.yml"
                srv.append(server_time(client, uri, text, len(client.notifications)))
                h = client.request("textDocument/hover", {"textDocument": {"uri": triv_uri},
                                                          "position": {"line": 0, "character": 0}}, timeout=120)
                assert h is not None and "result" in h, f"server did not answer after {name}"
            rows.append((name, len(text), statistics.median(chk), statistics.median(plan),
                         statistics.median([s for s in srv if s is not None] or [float("nan")])))
        client.close()
    ref = rows[0]
    print(f"{'input':22} {'bytes':>9} {'check s':>8} {'x ref':>6} {'plan s':>8} {'x ref':>6} {'server s':>9} {'x ref':>6}")
    for name, size, c, p, s in rows:
        print(f"{name:22} {size:9d} {c:8.2f} {c / ref[2]:6.1f} {p:8.2f} {p / ref[3]:6.1f} {s:9.3f} {s / ref[4]:6.1f}")
    print("the server answered a trivial request after every input")


if __name__ == "__main__":
    main()
