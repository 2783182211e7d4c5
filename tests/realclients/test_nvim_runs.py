"""Neovim's built-in LSP client calls guildls.listRuns and gets the same runs as
`guildls runs --format json` (nvim_list_runs.lua; Neovim 0.7+, headless). Lua drops
keys whose value is null and prints floats with fewer digits (scalars are float32 values anyway): compared with that in mind.
Output: test-output/nvim/list-runs.json."""
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from realclients_util import REPO, apt_install, check_server, say, venv_python  # noqa: E402

HERE = Path(__file__).resolve().parent


def _same(a, b, path="$"):
    """Equal as JSON read back from Lua: missing == null, [] == {}, floats to 1e-6 (scalars are float32)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in set(a) | set(b):
            _same(a.get(k), b.get(k), f"{path}.{k}")
        return
    if a in ([], {}) and b in ([], {}):
        return
    if isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{path}: {len(a)} != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
        return
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        assert math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12), f"{path}: {a} != {b}"
        return
    assert a == b, f"{path}: {a!r} != {b!r}"


def test_nvim_list_runs_is_the_cli_json(out_root, tmp_path):
    apt_install("neovim", binary="nvim")
    py = venv_python()
    check_server(py, dict(os.environ))
    out_dir = out_root / "nvim"
    out_dir.mkdir(exist_ok=True)
    proj = tmp_path / "seed"
    shutil.copytree(REPO / "examples" / "seed", proj, ignore=shutil.ignore_patterns(".guild"))
    env = dict(os.environ)
    env.pop("GUILD_HOME", None)
    for args in (["end-to-end"], ["train", "lr=0.5"]):
        subprocess.run([py, "-m", "guildls", "run", "-C", str(proj), *args, "--yes"], env=env,
                       check=True, capture_output=True, timeout=300)
    cli = json.loads(subprocess.run([py, "-m", "guildls", "runs", "-C", str(proj), "--format", "json"],
                                    env=env, check=True, capture_output=True, text=True, timeout=120).stdout)
    out = out_dir / "list-runs.json"
    out.unlink(missing_ok=True)
    home = tmp_path / "nvim-home"
    nenv = dict(env, LR_OUT=str(out), LR_CWD=str(proj), LR_SERVER_CMD=f"{py} -m guildls serve",
                XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
                XDG_STATE_HOME=str(home / "state"), XDG_CACHE_HOME=str(home / "cache"))
    r = subprocess.run(["nvim", "--headless", "-u", "NONE", "-i", "NONE", "-n",
                        "-c", f"luafile {HERE / 'nvim_list_runs.lua'}"], env=nenv, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=180)
    assert out.exists(), r.stdout
    d = json.loads(out.read_text())
    assert d["errors"] == [] and not d.get("err"), d
    got = d["result"]
    say(f"nvim {d.get('nvim_version')}: guildls.listRuns -> {len(got)} runs "
        f"({', '.join(x['operation'] for x in got)})")
    assert len(cli) == 5 and [x["operation"] for x in cli] == ["train", "test", "train", "prepare-data", "end-to-end"]
    _same(got, cli)
