"""Flags read statically from `main` scripts agree with what real Guild 0.9.0 imports.

For each sample script, Guild's own `--help-op` lists the flags it imports (it runs the
script's argparse/click set-up, or reads its globals); guildls must see the same names when
its static reading is complete, and must never call a flag unknown that Guild accepts.
"""

import os
import re
import subprocess
import textwrap

import pytest

from guildls.analysis.diagnostics import diagnose
from guildls.model import load_path

GUILD = os.environ.get("GUILD_EXE") or os.path.join(os.path.dirname(__file__), "..", "..", ".venv-guild", "bin", "guild")

SCRIPTS = {
    "globals_": """
        lr = 0.1
        epochs = 10
        name = "x"
        layers = [1, 2]
        _private = 3
        shape = (1, 2)
        """,
    "argparse_": """
        import argparse
        p = argparse.ArgumentParser()
        p.add_argument("--lr", type=float, default=0.1, help="Learning rate")
        p.add_argument("-o", "--opt", choices=["sgd", "adam"], default="adam")
        p.add_argument("--fast", action="store_true")
        p.add_argument("--tags", nargs="+", default=["a"])
        p.add_argument("--verbose", "-v", action="count")
        p.add_argument("data")
        g = p.add_argument_group("extra")
        g.add_argument("--seed", type=int, default=1)
        args = p.parse_args()
        """,
    "argparse_helper": """
        import argparse
        import helpers
        p = argparse.ArgumentParser()
        p.add_argument("--lr", type=float, default=0.1)
        helpers.add_args(p)
        args = p.parse_args()
        """,
    "helpers": """
        def add_args(p):
            p.add_argument("--hidden", type=int, default=3)
        """,
    "click_": """
        import click

        @click.command()
        @click.option("--lr", type=float, default=0.1, help="LR")
        @click.option("--layers", default=2)
        @click.option("--act", type=click.Choice(["relu", "tanh"]), default="relu")
        @click.option("--fast/--slow", default=False)
        def main(lr, layers, act, fast):
            pass

        main()
        """,
    "argparse_loop": """
        import argparse
        p = argparse.ArgumentParser()
        for name in ("a", "b"):
            p.add_argument("--" + name, default=1)
        p.parse_args()
        """,
}

GUILDFILE = """
globals-all: {main: globals_, flags-import: all}
globals-list: {main: globals_, flags-import: [lr, name]}
globals-unset: {main: globals_, flags: {lr: 0.2}}
globals-skip: {main: globals_, flags-import: all, flags-import-skip: [epochs]}
argparse-all: {main: argparse_, flags-import: yes}
argparse-helper: {main: argparse_helper, flags-import: all}
click-all: {main: click_, flags-import: all}
argparse-loop: {main: argparse_loop, flags-import: all}
"""
OPS = ["globals-all", "globals-list", "globals-unset", "globals-skip", "argparse-all", "argparse-helper",
       "click-all", "argparse-loop"]


def _guild(project, home, *args):
    env = dict(os.environ, GUILD_HOME=str(home), NO_WARN_FLAGS_IMPORT="1")
    r = subprocess.run([GUILD, *args], cwd=str(project), capture_output=True, text=True, env=env, timeout=180)
    return r.stdout + r.stderr


def _help_flags(out):
    """Flag names from `guild run OP --help-op`."""
    if "Flags:" not in out:
        return set()
    return set(re.findall(r"^  ([^\s]+)(?:\s|$)", out.split("Flags:", 1)[1], re.M))


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    if not os.path.exists(GUILD):
        pytest.skip(f"real Guild is not installed ({GUILD} missing; run `make oracle`)")
    root = tmp_path_factory.mktemp("scriptflags")
    home = tmp_path_factory.mktemp("guild-home")
    for name, text in SCRIPTS.items():
        (root / f"{name}.py").write_text(textwrap.dedent(text))
    steps = "".join(f"    - {op} zzz=1\n" for op in OPS)
    (root / "guild.yml").write_text(GUILDFILE + "wf:\n  steps:\n" + steps)
    return root, home


@pytest.mark.parametrize("op", OPS)
def test_imported_flag_names_match_guild(project, op):
    root, home = project
    theirs = _help_flags(_guild(root, home, "run", op, "--help-op"))
    gf = load_path(str(root / "guild.yml"))
    target = gf.models[""].operations[op]
    ours = set(target.flags)
    if target.flags_open:
        assert ours <= theirs  # an open set: what we see exists, more may
    else:
        assert ours == theirs


@pytest.mark.parametrize("op", OPS)
def test_unknown_flag_warning_only_where_guild_refuses(project, op):
    root, home = project
    out = _guild(root, home, "run", op, "zzz=1", "--print-cmd")
    gf = load_path(str(root / "guild.yml"))
    line = GUILDFILE.count("\n") + 2 + OPS.index(op)
    ours = [p for p in diagnose(gf) if p.code == "unknown-flag" and p.range.start_line == line]
    if ours:
        assert "unsupported flag 'zzz'" in out
    if op in ("globals-all", "globals-list", "globals-unset", "argparse-all", "click-all"):
        assert ours, out  # complete readings: the same refusal as Guild's


def test_definitions_point_into_the_script(project):
    root, _home = project
    gf = load_path(str(root / "guild.yml"))
    ops = gf.models[""].operations
    # 0-based lines (each sample starts with a blank line)
    assert ops["argparse-all"].flags["lr"].source == (str(root / "argparse_.py"), 3, 0)
    assert ops["globals-unset"].flags["lr"].source == (str(root / "globals_.py"), 1, 0)
    assert ops["click-all"].flags["layers"].source[1:] == (5, 1)
