"""The README's set-ups for other editors, loaded as written into the real editors here:
Neovim (Debian's 0.7.2) with nvim-lspconfig, Emacs (Debian's 28) with Eglot. Each opens a
guild.yml with a typo and must show guildls's diagnostic. The snippets live in
tests/realclients/editors/ and the README quotes them verbatim (checked below)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from realclients_util import REPO, apt_install, say, venv_python  # noqa: E402

EDITORS = Path(__file__).resolve().parent / "editors"
GUILD = "train:\n  main: train\nwf:\n  steps:\n    - trian\n"


def _env():
    # the snippets start `python3 -m guildls serve`: the test venv's python3 comes first
    return dict(os.environ, PATH=str(Path(venv_python()).parent) + os.pathsep + os.environ.get("PATH", ""))


@pytest.mark.parametrize("snippet", ["guildls-nvim-lspconfig.lua", "guildls-eglot.el"])
def test_readme_quotes_the_tested_snippets(snippet):
    readme = (REPO / "README.md").read_text()
    assert (EDITORS / snippet).read_text().strip() in readme


def test_neovim_with_nvim_lspconfig(tmp_path, out_root):
    apt_install("neovim", binary="nvim")
    lspconfig = os.environ.get("GUILDLS_NVIM_LSPCONFIG")
    if not lspconfig or not (Path(lspconfig) / "lua" / "lspconfig").is_dir():
        pytest.skip("nvim-lspconfig is not installed: set GUILDLS_NVIM_LSPCONFIG to a checkout "
                    "(v0.1.6 for Debian's Neovim 0.7; not on Debian, PyPI or npm)")
    (tmp_path / "guild.yml").write_text(GUILD)
    out = out_root / "nvim-lspconfig.json"
    env = dict(_env(), LSPCONFIG=lspconfig, SETUP=str(EDITORS / "guildls-nvim-lspconfig.lua"),
               FILE=str(tmp_path / "guild.yml"), OUT=str(out))
    r = subprocess.run(["nvim", "--headless", "--clean", "-u", str(EDITORS / "check_nvim.lua")], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=180)
    assert out.exists(), r.stdout
    res = json.loads(out.read_text())
    say(f"neovim {res['version']} + nvim-lspconfig: {res}")
    assert res["filetype"] == "guild" and res["clients"] == ["guildls"]
    assert [d["line"] for d in res["diagnostics"]] == [4]
    assert "did you mean 'train'" in res["diagnostics"][0]["message"]


def test_emacs_with_eglot(tmp_path, out_root):
    apt_install("emacs-nox", "elpa-eglot", binary="emacs")
    if not list(Path("/usr/share/emacs/site-lisp/elpa").glob("eglot*")) and shutil.which("emacs"):
        r = subprocess.run(["emacs", "--batch", "-Q", "--eval", "(require 'eglot)"], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"Eglot is not available to this Emacs: {r.stderr.strip()[-300:]}")
    (tmp_path / "guild.yml").write_text(GUILD)
    out = out_root / "eglot.json"
    r = subprocess.run(["emacs", "--batch", "-Q", "-l", str(EDITORS / "check_eglot.el"), "--",
                        str(EDITORS / "guildls-eglot.el"), str(tmp_path / "guild.yml"), str(out)], env=_env(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=180)
    assert out.exists(), r.stdout
    res = json.loads(out.read_text())
    say(f"emacs + eglot: {res}")
    assert res["mode"] == "guild-mode" and res["server"] is True
    assert [d["line"] for d in res["diagnostics"]] == [5]  # Emacs lines count from 1
    assert "did you mean 'train'" in res["diagnostics"][0]["text"]
