"""Helpers for the real-editor tests (imported by test_vscode.py and test_nvim.py)."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT_ROOT = REPO / "test-output"
CACHE = Path(os.environ.get("GUILDLS_E2E_CACHE", Path.home() / ".cache" / "guildls-e2e"))


def shared_tools() -> Path:
    """../shared/tools/real-clients beside the repo (CI and developers)."""
    for cand in (os.environ.get("REAL_CLIENTS_DIR"), REPO.parent / "shared" / "tools" / "real-clients"):
        if cand and (Path(cand) / "nvim_probe.sh").exists():
            return Path(cand)
    pytest.skip("real-client harness ../shared/tools/real-clients not found beside the repo")


def venv_python() -> str:
    p = REPO / ".venv" / "bin" / "python"
    return str(p) if p.exists() else sys.executable


REPORT: list = []


def say(msg: str) -> None:
    """Note MSG for the terminal summary (conftest.py prints it after the tests,
    so measurements show in `make test` output) and print it (shown on failure)."""
    REPORT.append(msg)
    print(f"[realclients] {msg}")


# ------------------------------------------------------------------ installs

def _run(cmd, timeout, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout, **kw)


def apt_install(*packages: str, binary: str) -> None:
    """apt-get install PACKAGES unless BINARY is there; skip (with the reason) when apt cannot."""
    if shutil.which(binary):
        return
    if not shutil.which("apt-get"):
        pytest.skip(f"{binary} is not installed and there is no apt-get to install it")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    upd = _run(["apt-get", "update", "-q"], 900, env=env)
    if upd.returncode != 0 or re.search(r"^(W|E): Failed to fetch", upd.stdout, re.M):
        pytest.skip(f"cannot install {binary}: apt-get update failed (no Debian mirror?):\n{upd.stdout[-1500:]}")
    r = _run(["apt-get", "install", "-y", "-q", *packages], 1800, env=env)
    if r.returncode != 0:
        pytest.fail(f"apt-get install {' '.join(packages)} failed:\n{r.stdout[-3000:]}")


def npm_registry_reachable() -> bool:
    if not shutil.which("npm"):
        return False
    try:
        return _run(["npm", "ping"], 120).returncode == 0
    except subprocess.TimeoutExpired:
        return False


# ------------------------------------------------------------------ the server

def check_server(cmd, env: dict) -> None:
    """CMD (`python -m guildls serve` when CMD is a python path) must answer
    `initialize`; skip while `serve` is not implemented at all."""
    if isinstance(cmd, str):
        cmd = [cmd, "-m", "guildls", "serve"]
    python = " ".join(cmd)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                       "params": {"processId": None, "rootUri": None, "capabilities": {}}})
    msg = f"Content-Length: {len(body)}\r\n\r\n{body}".encode()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env, cwd=str(REPO))
    try:
        out, err = p.communicate(msg, timeout=20)
    except subprocess.TimeoutExpired:
        # still running after stdin closed: read what it answered so far
        p.kill()
        out, err = p.communicate()
    text, errtext = out.decode(errors="replace"), err.decode(errors="replace")
    if '"capabilities"' in text:
        return
    if "Traceback" not in errtext and p.returncode not in (None, 0, -9):
        pytest.skip(f"`{python}` is not implemented in this checkout yet "
                    f"(exit {p.returncode}: {errtext.strip()[-300:]})")
    pytest.fail(f"`{python}` did not answer initialize (exit {p.returncode}):\n"
                f"stdout: {text[-1000:]}\nstderr: {errtext[-3000:]}")


# ------------------------------------------------------------------ the seed workspace

FALLBACK_SEED = """\
# fallback seed (examples/seed/guild.yml was not there)
prepare-data:
  description: Prepare the data
  main: prepare

train:
  description: Train
  main: train
  flags:
    lr: 0.01
  requires:
    - operation: prepare-data

test:
  description: Test
  main: test

end-to-end:
  description: Prepare, train and test
  steps:
    - prepare-data
    - train
    - test
"""

SLOW_OP = """
slow:
  description: guildls e2e test operation that runs until it is stopped
  main: slow
"""
SLOW_PY = """import time

for i in range(1200):
    print("slow: tick %d" % i, flush=True)
    time.sleep(0.5)
"""
PLANTED = "  no-such-attribute: 1"


def make_workspace(dest: Path, near_workflow: bool = False, plant: bool = True) -> dict:
    """Copy examples/seed to DEST, add an operation `slow` (runs until stopped)
    at the end, and plant an error: an unknown attribute in the first
    operation (the editor shows it without scrolling), or with NEAR_WORKFLOW in
    the operation just above the first workflow (both in one screen once the
    editor reveals the workflow). Returns the guild.yml path and 0-based lines."""
    if dest.exists():
        shutil.rmtree(dest)
    seed = REPO / "examples" / "seed"
    if (seed / "guild.yml").exists():
        shutil.copytree(seed, dest, ignore=shutil.ignore_patterns(".guild", "__pycache__", "runs"))
    else:
        dest.mkdir(parents=True)
        (dest / "guild.yml").write_text(FALLBACK_SEED)
        say("examples/seed/guild.yml not found: using a fallback seed")
    (dest / "slow.py").write_text(SLOW_PY)
    # plain YAML beside it, broken: guildls must leave it alone
    (dest / "other.yml").write_text("not-a-guild-file:\n  main: [unclosed\n  no-such-attribute: 1\n")
    gy = dest / "guild.yml"
    text = gy.read_text()
    if not text.endswith("\n"):
        text += "\n"
    lines = (text + SLOW_OP).splitlines()
    heads = [i for i, ln in enumerate(lines) if re.match(r"^[A-Za-z][\w-]*:\s*$", ln)]

    def is_workflow(h):
        nxt = min([j for j in heads if j > h] or [len(lines)])
        return any(re.match(r"^  steps:", ln) for ln in lines[h:nxt])
    workflow = next(h for h in heads if is_workflow(h))
    target = max(h for h in heads if h < workflow) if near_workflow else heads[0]
    if not plant:  # a clean file (the runs tests)
        gy.write_text("\n".join(lines) + "\n")
        return {"path": gy, "planted": None, "slow": lines.index("slow:"), "workflow": workflow,
                "train": lines.index("train:") if "train:" in lines else None}
    lines.insert(target + 1, PLANTED)
    gy.write_text("\n".join(lines) + "\n")
    return {"path": gy, "planted": lines.index(PLANTED), "slow": lines.index("slow:"),
            "workflow": workflow + 1 if workflow > target else workflow}


def line_of(path: Path, pattern: str) -> int:
    for i, line in enumerate(path.read_text().splitlines()):
        if re.search(pattern, line):
            return i
    raise AssertionError(f"{pattern!r} not in {path}")


def wait_until(pred, timeout, step=0.2):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return None
