"""Tiny projects in tmp_path for executor tests."""

import os
import textwrap

import pytest

from guildls.model import load


class Project:
    def __init__(self, root, guild_home):
        self.root = str(root)
        self.guild_home = str(guild_home)
        self.path = os.path.join(self.root, "guild.yml")

    def write(self, name, text):
        p = os.path.join(self.root, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(textwrap.dedent(text).lstrip("\n"))
        return p

    def guildfile(self, text=None):
        if text is not None:
            self.write("guild.yml", text)
        with open(self.path) as f:
            return load(f.read(), self.path)

    @property
    def runs_root(self):
        return os.path.join(self.guild_home, "runs")

    def run_ids(self):
        try:
            return sorted(os.listdir(self.runs_root))
        except OSError:
            return []

    def env(self):
        env = dict(os.environ)
        env["GUILD_HOME"] = self.guild_home
        return env

    def plan(self, op, flags=(), **kw):
        from guildls.executor.plan import build_plan

        return build_plan(self.guildfile(), op, list(flags), project_dir=self.root, **kw)

    def run(self, op, flags=(), *, plan_kw=None, **kw):
        from guildls.executor.runner import Runner

        out = []
        plan = self.plan(op, flags, **(plan_kw or {}))
        runner = Runner(plan, self.root, self.path, env=self.env(),
                        on_output=lambda rid, stream, text: out.append((stream, text)), **kw)
        result = runner.run()
        result.output = "".join(t for _, t in out)
        result.stdout = "".join(t for s, t in out if s == "stdout")
        result.stderr = "".join(t for s, t in out if s == "stderr")
        return result


# a script that prints its globals-style flags
SHOW = """
x = 0
y = 0
name = "plain"
print(f"show x={x!r} y={y!r} name={name!r}")
"""


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    home = tmp_path / "guild-home"
    home.mkdir()
    return Project(root, home)



@pytest.fixture
def trial_marks(project, tmp_path):
    """`project` with the operation `w` whose trials record when they run (tests/trialmarks.py)."""
    from trialmarks import TrialMarks  # tests/, on sys.path (tests/conftest.py)

    marks = tmp_path / "marks"
    marks.mkdir()
    return TrialMarks(project, marks)
