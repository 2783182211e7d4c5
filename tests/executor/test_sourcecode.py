"""Source code selection: Guild's default rules and `sourcecode` specs (checked against
Guild 0.9.0 on the same tree; expectations below are what Guild copied)."""

import os
import subprocess

import pytest

from guildls.executor.sourcecode import select_for

GUILD = os.environ.get("GUILD_EXE") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), ".venv-guild", "bin", "guild")

GUILD_YML = """
default: {main: a}
just-py: {main: a, sourcecode: '*.py'}
a-b: {main: a, sourcecode: [a.py, notes.txt]}
excl-dir: {main: a, sourcecode: [{exclude: {dir: data}}]}
excl-py: {main: a, sourcecode: [{exclude: '*.py'}]}
excl-sub: {main: a, sourcecode: [{exclude: sub}]}
none: {main: a, sourcecode: no}
dest: {main: a, sourcecode: {dest: src}}
incl-png: {main: a, sourcecode: [{include: {binary: '*.png'}}]}
"""

EXPECTED = {
    "default": ["a.py", "data/d.csv", "guild.yml", "notes.txt", "sub/b.py"],
    "just-py": ["a.py", "sub/b.py"],
    "a-b": ["a.py", "notes.txt"],
    "excl-dir": ["a.py", "guild.yml", "notes.txt", "sub/b.py"],
    "excl-py": ["data/d.csv", "guild.yml", "notes.txt"],
    "excl-sub": ["a.py", "data/d.csv", "guild.yml", "notes.txt"],
    "none": [],
    "dest": ["src/a.py", "src/data/d.csv", "src/guild.yml", "src/notes.txt", "src/sub/b.py"],
    "incl-png": ["a.py", "data/d.csv", "guild.yml", "img.png", "notes.txt", "sub/b.py"],
}


@pytest.fixture
def tree(project):
    project.write("a.py", "print('a')\n")
    project.write("notes.txt", "x\n")
    project.write("sub/b.py", "b\n")
    project.write("data/d.csv", "d\n")
    project.write(".hidden/h.py", "h\n")
    project.write("nocopy/.guild-nocopy", "")
    project.write("nocopy/n.py", "n\n")
    with open(os.path.join(project.root, "img.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    project.guildfile(GUILD_YML)
    return project


def _ours(project, op):
    o = project.guildfile().find_operation(op)
    sel = select_for(o, project.root)
    return sorted(os.path.normpath(os.path.join(sel.dest, f)) for f in sel.files())


@pytest.mark.parametrize("op", sorted(EXPECTED))
def test_selection(tree, op):
    assert _ours(tree, op) == EXPECTED[op]


def test_run_dir_gets_the_copy_and_manifest(tree):
    res = tree.run("just-py")
    assert res.exit_code == 0
    rd = os.path.join(tree.runs_root, res.runs[0].id)
    assert os.path.isfile(os.path.join(rd, "sub", "b.py"))
    assert not os.path.exists(os.path.join(rd, "notes.txt"))
    with open(os.path.join(rd, ".guild", "manifest")) as f:
        lines = sorted(l.split()[1] for l in f if l.startswith("s "))
    assert lines == ["a.py", "sub/b.py"]


@pytest.mark.skipif(not os.path.exists(GUILD), reason=f"Guild not installed at {GUILD}")
@pytest.mark.parametrize("op", ["default", "excl-dir"])
def test_same_as_guild(tree, op, tmp_path):
    home = tmp_path / f"gh-{op}"
    home.mkdir()
    env = dict(os.environ, GUILD_HOME=str(home))
    subprocess.run([GUILD, "run", op, "-y"], cwd=tree.root, env=env, capture_output=True,
                   timeout=120)
    runs = os.listdir(home / "runs")
    with open(home / "runs" / runs[0] / ".guild" / "manifest") as f:
        guild = sorted(l.split()[1] for l in f if l.startswith("s "))
    assert guild == _ours(tree, op)


@pytest.mark.skipif(not __import__("shutil").which("git"), reason="git not installed")
def test_git_checkout_uses_gits_rules(tree):
    # In a git work tree Guild copies what git does not ignore: any type and size,
    # hidden dirs included, but not .git* files and ignored paths.
    subprocess.run(["git", "init", "-q", tree.root], check=True)
    tree.write(".gitignore", "data/\n*.txt\n")
    with open(os.path.join(tree.root, "blob.bin"), "wb") as f:
        f.write(os.urandom(2048))
    assert _ours(tree, "default") == [".hidden/h.py", "a.py", "blob.bin", "guild.yml", "img.png",
                                      "sub/b.py"]
    assert _ours(tree, "just-py") == [".hidden/h.py", "a.py", "sub/b.py"]
