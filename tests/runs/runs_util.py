"""Helpers: runs written by real Guild 0.9.0 and by guildls into one GUILD_HOME."""

import os
import shutil
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed"
GUILD = os.environ.get("GUILD_EXE") or str(ROOT / ".venv-guild" / "bin" / "guild")


def have_guild() -> bool:
    return os.path.exists(GUILD)


def guild(args, cwd, home, check=True, timeout=300):
    env = dict(os.environ, GUILD_HOME=str(home), NO_WARN_RUNDIR="1")
    p = subprocess.run([GUILD] + list(args), cwd=str(cwd), env=env, capture_output=True,
                       text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"guild {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def guildls(args, cwd, home, check=True, timeout=300, input=None):
    env = dict(os.environ, GUILD_HOME=str(home))
    p = subprocess.run([sys.executable, "-m", "guildls"] + list(args), cwd=str(cwd), env=env,
                       capture_output=True, text=True, timeout=timeout, input=input)
    if check and p.returncode != 0:
        raise AssertionError(f"guildls {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


class Mixed:
    """A seed project and a GUILD_HOME holding: Guild's end-to-end workflow (3 steps), a Guild
    `train` run with a label and a failing Guild run; guildls's end-to-end (epochs=3)."""

    def __init__(self, base: Path):
        self.project = base / "seed"
        shutil.copytree(SEED, self.project, ignore=shutil.ignore_patterns(".guild"))
        (self.project / "fail.py").write_text("import sys\nprint('loss: 9.5')\nsys.exit(4)\n")
        with open(self.project / "guild.yml", "a") as f:
            f.write("\nfail:\n  main: fail\n  flags:\n    x: 1\n")
        self.home = base / "guild-home"
        self.home.mkdir()
        self.runs = self.home / "runs"
        guild(["run", "end-to-end", "-y"], self.project, self.home)
        guild(["run", "train", "lr=0.3", "epochs=4", "--label", "best <b>", "-y"], self.project, self.home)
        guild(["run", "fail", "x=2", "-y"], self.project, self.home, check=False)
        guildls(["run", "end-to-end", "epochs=3", "--yes"], self.project, self.home)
