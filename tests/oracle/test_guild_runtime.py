"""guildls agrees with real Guild 0.9.0 on what happens when operations RUN.

Each project below is run with real `guild run -y` (a fresh GUILD_HOME outside the
project). For a run-time failure the test first states what Guild does (exit status and
its words), then that `guildls check` warns about it where the file says so. For values,
it states what Guild prints and that guildls's plan, flags and runner print the same.
"""

import os
import subprocess
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

from guildls.analysis.diagnostics import diagnose
from guildls.model import load_path

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUILD = os.environ.get("GUILD_EXE") or os.path.join(_REPO, ".venv-guild", "bin", "guild")


class Case:
    def __init__(self, files, op, guild_says, code=None, says=(), line=None, setup=(), rc=1):
        self.files = {k: textwrap.dedent(v).lstrip("\n") for k, v in files.items()}
        self.op = op
        self.guild_says = guild_says  # words in Guild's output
        self.code = code  # the guildls diagnostic code expected (None: no check)
        self.says = says  # words in the guildls message
        self.line = line  # 1-based line of the diagnostic
        self.setup = setup  # operations run first (standalone)
        self.rc = rc


CASES = {
    # a workflow flag value that cannot be the type of the step flag it feeds
    "workflow-flag-type": Case({"guild.yml": """
        step: {exec: 'echo x=${x}', flags: {x: {type: number, default: 1}}}
        wf:
          flags: {x: foo}
          steps:
            - run: step
              flags: {x: '${x}'}
        """}, "wf", "guild: invalid value foo for x: invalid value for type 'number'",
        "invalid-flag-value", ["invalid value foo for x: invalid value for type 'number'", "workflow flag 'x'"], 6),
    "workflow-flag-type-in-run-string": Case({"guild.yml": """
        step: {exec: 'echo x=${x}', flags: {x: {type: int, default: 1}}}
        wf:
          flags: {n: 1.5}
          steps:
            - step x=${n}
        """}, "wf", "guild: invalid value 1.5 for x: invalid value for type 'int'",
        "invalid-flag-value", ["invalid value 1.5 for x: invalid value for type 'int'"], 5),
    # undefined ${ref} in a dependency source's file: or rename
    "source-file-undefined-ref": Case({"guild.yml": """
        down:
          exec: ls
          requires:
            - file: '${nope}.txt'
        """}, "down", "undefined reference 'nope'", "undefined-reference", ["'nope'", "file"], 4),
    "source-rename-undefined-ref": Case({"guild.yml": """
        down:
          exec: ls
          requires:
            - file: a.txt
              rename: 'a.txt ${nope}.txt'
        """, "a.txt": "hi\n"}, "down", "cannot resolve '${nope}.txt': undefined reference 'nope'",
        "undefined-reference", ["'nope'", "rename"], 5),
    # absolute target-path, invalid target-type
    "source-absolute-target-path": Case({"guild.yml": """
        down:
          exec: ls
          requires:
            - file: a.txt
              target-path: /tmp/somewhere
        """, "a.txt": "hi\n"}, "down", "invalid path '/tmp/somewhere' in None resource (path must be relative)",
        "invalid-source", ["invalid path '/tmp/somewhere'", "path must be relative"], 5),
    "source-bad-target-type": Case({"guild.yml": """
        down:
          exec: ls
          requires:
            - file: a.txt
              target-type: hard
        """, "a.txt": "hi\n"}, "down", "unsupported target-type 'hard' in source None (expected 'link' or 'copy')",
        "invalid-source", ["unsupported target-type 'hard'", "expected 'link' or 'copy'"], 5),
    # a malformed operation reference
    "source-bad-operation-ref": Case({"guild.yml": """
        down:
          exec: ls
          requires:
            - operation: foo/bar
        """}, "down", "inavlid operation reference 'foo/bar'",
        "invalid-source", ["invalid operation reference 'foo/bar'"], 4),
    # an empty exec
    "empty-exec": Case({"guild.yml": """
        down:
          exec: ''
        """}, "down", "guild: invalid definition for operation 'down': must define either exec, main, or steps",
        "invalid-operation", ["invalid definition for operation 'down': must define either exec, main, or steps"], 2),
    # a lone flag name YAML reads as a boolean: loads, fails when it runs
    "lone-boolean-flag-name": Case({"guild.yml": """
        down:
          exec: echo hi
          flags: {on: 1}
        """}, "down", "AttributeError: 'bool' object has no attribute 'upper'",
        "non-string-key", ["as the boolean true", "quote it"], 3),
    # an isolated step requiring an operation no earlier step of the workflow runs, even
    # though a run of it exists outside the workflow
    "isolated-step-requires-unrun-op": Case({"guild.yml": """
        prep: {exec: 'touch d.txt'}
        train:
          exec: ls
          requires:
            - operation: prep
        wf:
          steps:
            - train
        """}, "wf", "could not resolve 'operation:prep' in operation:prep resource: no suitable run for prep",
        "unresolved-dependency", ["step 'train'", "prep"], 8, setup=["prep"]),
}

# Same shapes that Guild runs without failing: guildls stays silent on them.
OK_CASES = {
    "isolated-step-after-its-dependency": Case({"guild.yml": """
        prep: {exec: 'touch d.txt'}
        train:
          exec: ls
          requires:
            - operation: prep
        wf:
          steps:
            - prep
            - train
        """}, "wf", "d.txt", rc=0),
    "not-isolated-step": Case({"guild.yml": """
        prep: {exec: 'touch d.txt'}
        train:
          exec: ls
          requires:
            - operation: prep
        wf:
          steps:
            - run: train
              isolate-runs: no
        """}, "wf", "d.txt", setup=["prep"], rc=0),
    "workflow-flag-fits-type": Case({"guild.yml": """
        step: {exec: 'echo x=${x}', flags: {x: {type: number, default: 1}}}
        wf:
          flags: {x: 2.5}
          steps:
            - run: step
              flags: {x: '${x}'}
        """}, "wf", "x=2.5", rc=0),
    "source-refs-defined": Case({"guild.yml": """
        down:
          exec: ls
          flags: {name: a}
          requires:
            - file: '${name}.txt'
              rename: 'a.txt ${name}-copy.txt'
              target-type: link
              target-path: sub
        """, "a.txt": "hi\n"}, "down", "sub", rc=0),
}


def _run(root, home, op):
    env = dict(os.environ, GUILD_HOME=home, NO_WARN_RUNDIR="1")
    env.pop("GUILD_RUNS_PARENT", None)
    r = subprocess.run([GUILD, "run", "-y", op], cwd=root, env=env, capture_output=True, text=True,
                       timeout=300)
    return r.returncode, r.stdout + r.stderr


def _play(base, name, case):
    root = base / name / "project"
    home = base / name / "guild-home"
    root.mkdir(parents=True)
    home.mkdir()
    for fname, text in case.files.items():
        (root / fname).write_text(text)
    for op in case.setup:
        rc, out = _run(str(root), str(home), op)
        assert rc == 0, out
    return _run(str(root), str(home), case.op)


@pytest.fixture(scope="module")
def guild_runs(tmp_path_factory):
    if not os.path.exists(GUILD):
        pytest.skip(f"real Guild is not installed ({GUILD} missing; run `make oracle`)")
    base = tmp_path_factory.mktemp("runtime")
    todo = dict(CASES, **OK_CASES)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(_play, base, name, case) for name, case in todo.items()}
        return base, {name: f.result() for name, f in futures.items()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_runtime_failure_is_warned(guild_runs, name):
    base, results = guild_runs
    case = CASES[name]
    rc, out = results[name]
    assert rc == case.rc, out
    assert case.guild_says in out, out
    gf = load_path(str(base / name / "project" / "guild.yml"))
    probs = diagnose(gf)
    assert not [p for p in probs if p.severity == "error"], probs  # Guild loads the file
    found = [p for p in probs if p.code == case.code and p.severity == "warning"]
    assert found, probs
    p = found[0]
    for words in case.says:
        assert words in p.message, (words, p.message)
    assert p.range.start_line + 1 == case.line, (p.range, p.message)


@pytest.mark.parametrize("name", sorted(OK_CASES))
def test_runs_that_work_get_no_warning(guild_runs, name):
    base, results = guild_runs
    case = OK_CASES[name]
    rc, out = results[name]
    assert rc == 0, out
    assert case.guild_says in out, out
    gf = load_path(str(base / name / "project" / "guild.yml"))
    probs = [p for p in diagnose(gf) if p.severity in ("error", "warning")]
    assert probs == [], probs


# Values: Guild's YAML resolver reads `1e-3` (no dot) and `1.0e3` (no exponent sign) as
# floats, in defaults, workflow flags and step flags alike; plain YAML 1.1 keeps them as
# text. guildls reads them as Guild does in the model, the plan, the runner and hover.
SCI = """
train:
  exec: 'echo at-${lr} b=${b} c=${c}'
  flags:
    lr: 1e-3
    b: 1.0e3
    c: 2E5
wf:
  flags:
    lr: 1e-4
  steps:
    - run: train
      flags: {lr: '${lr}', c: 3e2}
"""


def test_scientific_notation_values_as_guild(tmp_path):
    import sys

    if not os.path.exists(GUILD):
        pytest.skip(f"real Guild is not installed ({GUILD} missing; run `make oracle`)")
    theirs = Case({"guild.yml": SCI}, "wf", "")
    rc, out = _play(tmp_path / "guild", "sci", theirs)
    assert rc == 0, out
    assert "INFO: [guild] running train: train c=300.0 lr=0.0001" in out, out
    assert "at-0.0001 b=1000.0 c=300.0" in out, out
    rc, out = _run(str(tmp_path / "guild" / "sci" / "project"), str(tmp_path / "guild" / "sci" / "guild-home"),
                   "train")
    assert "at-0.001 b=1000.0 c=200000.0" in out, out

    root = tmp_path / "ours"
    home = tmp_path / "ours-home"
    root.mkdir()
    home.mkdir()
    (root / "guild.yml").write_text(SCI.lstrip())
    gf = load_path(str(root / "guild.yml"))
    train = gf.find_operation("train")
    assert train.flags["lr"].default == 0.001 and train.flags["b"].default == 1000.0
    assert train.flags["c"].default == 200000.0
    from guildls.analysis.hover import hover

    text, _ = hover(gf, 3, 5)  # on `lr`
    assert "0.001" in text and "1e-3" not in text, text
    env = dict(os.environ, GUILD_HOME=str(home))
    for op, words in (("wf", ["INFO: [guild] running train: train c=300.0 lr=0.0001", "at-0.0001 b=1000.0 c=300.0"]),
                      ("train", ["at-0.001 b=1000.0 c=200000.0"])):
        r = subprocess.run([sys.executable, "-m", "guildls", "run", "-C", str(root), op, "--yes"], env=env,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        for w in words:
            assert w in r.stdout + r.stderr, (w, r.stdout + r.stderr)


# A step run that failed resolving a dependency: Guild writes no `exit_status` (nor
# `stopped`, nor `env`) and `guild runs` shows it as error; guildls's record is the same.
DEPFAIL = """
prep: {exec: 'touch d.txt'}
train:
  exec: ls
  requires:
    - operation: prep
wf:
  steps: [train]
"""


def _step_attrs(home):
    runs = os.path.join(home, "runs")
    for rid in os.listdir(runs):
        attrs = os.path.join(runs, rid, ".guild", "attrs")
        with open(os.path.join(attrs, "flags")) as f:
            if "operation:prep" in f.read():
                return rid, set(os.listdir(attrs))
    raise AssertionError("no step run")


def test_failed_dependency_run_record_as_guild(tmp_path):
    import sys

    if not os.path.exists(GUILD):
        pytest.skip(f"real Guild is not installed ({GUILD} missing; run `make oracle`)")
    rc, out = _play(tmp_path / "guild", "depfail", Case({"guild.yml": DEPFAIL}, "wf", ""))
    assert rc == 1 and "no suitable run for prep" in out, out
    _, theirs = _step_attrs(str(tmp_path / "guild" / "depfail" / "guild-home"))
    assert not {"exit_status", "stopped", "env", "started"} & theirs, theirs

    root = tmp_path / "ours"
    home = tmp_path / "ours-home"
    root.mkdir()
    home.mkdir()
    (root / "guild.yml").write_text(DEPFAIL.lstrip())
    r = subprocess.run([sys.executable, "-m", "guildls", "run", "-C", str(root), "wf", "--yes"],
                       env=dict(os.environ, GUILD_HOME=str(home)), capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "no suitable run for prep" in r.stdout + r.stderr, r.stdout + r.stderr
    rid, ours = _step_attrs(str(home))
    # guildls never writes Guild's `op`, `plugins` and `random_seed` attributes (any run)
    assert ours == theirs - {"op", "plugins", "random_seed"}, (ours, theirs)
    # Guild's own reader: that run is an error run
    env = dict(os.environ, GUILD_HOME=str(home))
    listed = subprocess.run([GUILD, "runs", "info", rid[:8]], cwd=str(root), env=env, capture_output=True,
                            text=True, timeout=120)
    assert "status: error" in listed.stdout, listed.stdout + listed.stderr


# `isolate-runs: no` inside a nested workflow: the step process inherits the nested
# workflow's environment, whose GUILD_RUNS_PARENT is the OUTER workflow's run, so Guild
# still limits it to runs linked from the outer workflow (prep tag=outer), not every run
# (the newest prep is tag=inner, linked from the inner workflow only).
NESTED = """
prep: {exec: 'sh -c "echo tag-${tag} > d.txt"', flags: {tag: x}}
train:
  exec: cat d.txt
  requires:
    - operation: prep
inner:
  steps:
    - prep tag=inner
    - run: train
      isolate-runs: no
outer:
  steps:
    - prep tag=outer
    - inner
"""


def test_nested_isolate_runs_no_as_guild(tmp_path):
    import sys

    if not os.path.exists(GUILD):
        pytest.skip(f"real Guild is not installed ({GUILD} missing; run `make oracle`)")
    rc, out = _play(tmp_path / "guild", "nested", Case({"guild.yml": NESTED}, "outer", ""))
    assert rc == 0 and "tag-outer" in out and "tag-inner" not in out, out
    root = tmp_path / "ours"
    home = tmp_path / "ours-home"
    root.mkdir()
    home.mkdir()
    (root / "guild.yml").write_text(NESTED.lstrip())
    r = subprocess.run([sys.executable, "-m", "guildls", "run", "-C", str(root), "outer", "--yes"],
                       env=dict(os.environ, GUILD_HOME=str(home)), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "tag-outer" in r.stdout and "tag-inner" not in r.stdout, r.stdout + r.stderr
