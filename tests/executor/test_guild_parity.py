"""Executor defects found by comparing `guildls run` with Guild 0.9.0 (each asserted
behaviour was observed with real Guild on the same tiny project)."""

import json
import os

import pytest

from guildls.executor.plan import PlanError


# 1, 8. globals Guild imports as flags: str/int/float/bool/None literals, signed numbers,
# lists; every target of `i = j = 3`; not tuples, dicts, `...`, complex, expressions.
def test_globals_import_follows_guild_rules(project):
    project.write("train.py", """
        a = 1
        b = -1
        d = "str"
        f = None
        g = [1, 2]
        i = j = 3
        k, l = 1, 2
        m = (224, 224)
        n = {"x": 1}
        o = 2 * 3
        shape = ...
        t = 1 + 2j
        u = +1
        y = 1
        y = "two"
        print("ij", i, j, "m", m)
        """)
    project.guildfile("""
train:
  flags-import: all
""")
    plan = project.plan("train")
    assert sorted(plan.flags) == ["a", "b", "d", "f", "g", "i", "j", "u", "y"]
    assert plan.flags["y"] == 1
    for bad in ("m=3", "shape=1", "t=1", "k=1", "n=1"):
        with pytest.raises(PlanError) as e:
            project.plan("train", [bad])
        assert e.value.message == f"unsupported flag '{bad.split('=')[0]}'"
    json.dumps(plan.to_json())  # nothing unrepresentable in the plan
    res = project.run("train", ["i=5", "j=6"])
    assert res.exit_code == 0, res.output
    assert "ij 5 6 m (224, 224)" in res.stdout
    res = project.run("train", ["i=5"])
    assert "ij 5 3" in res.stdout


# 2. path flags are made absolute (project dir); a missing existing-path is refused
def test_path_flags_absolute_and_existing_path_checked(project):
    project.write("data/x.txt", "x\n")
    project.guildfile("""
op:
  exec: echo p=${p} ep=${ep}
  flags:
    p: {type: path, default: data}
    ep: {type: existing-path, default: guild.yml}
""")
    root = os.path.abspath(project.root)
    plan = project.plan("op")
    assert plan.flags == {"p": os.path.join(root, "data"), "ep": os.path.join(root, "guild.yml")}
    assert project.plan("op", ["p=/abs"]).flags["p"] == "/abs"
    with pytest.raises(PlanError) as e:
        project.plan("op", ["ep=nonexist"])
    missing = os.path.join(root, "nonexist")
    assert e.value.message == f"invalid value {missing} for ep: {missing} does not exist"
    res = project.run("op", ["p=x/y"])
    assert f"p={os.path.join(root, 'x/y')} ep={os.path.join(root, 'guild.yml')}" in res.stdout


# 3. env: a whole `${flag}` with a non-string value fails in Guild (TypeError): refused
# before running; python_exe / project_dir are not env references in Guild
def test_env_refs_as_guild(project):
    project.guildfile("""
int-ref:
  exec: sh -c "echo X=$X"
  flags: {gpu: 0}
  env: {X: "${gpu}"}
ok:
  exec: sh -c "echo X=$X Y=$Y Z=$Z"
  flags: {gpu: 0, s: {type: string, default: '1'}}
  env: {X: "gpu-${gpu}", Y: "${s}", Z: 5}
py:
  exec: sh -c "echo X=$X"
  env: {X: "${python_exe}"}
pd:
  exec: sh -c "echo X=$X"
  env: {X: "${project_dir}"}
""")
    with pytest.raises(PlanError) as e:
        project.plan("int-ref")
    assert "env X: ${gpu} is 0 (int)" in e.value.message and "\\n" not in e.value.message
    assert "X=gpu-0 Y=1 Z=5" in project.run("ok").stdout
    for op, ref in (("py", "python_exe"), ("pd", "project_dir")):
        with pytest.raises(PlanError) as e:
            project.plan(op)
        assert e.value.message == ("invalid setting for operation: command contains invalid "
                                   f"reference '{ref}'")


# 4. ${flag_args} / ${main_args} expand only as whole words; `main: t ${flag_args}` passes
# the flag args there (once), ${project_dir} in main args works
def test_flag_args_markers_as_guild(project):
    project.write("t.py", "import sys\nprint('argv', sys.argv[1:])\n")
    project.guildfile("""
embedded:
  exec: bash -c "echo ${flag_args}"
  flags: {lr: 0.1}
embedded-main:
  exec: "echo x${main_args}"
main-marker:
  main: t ${flag_args}
  flags: {lr: 0.1}
main-pd:
  main: t --data-dir ${project_dir}/data
  flags-dest: globals
""")
    for op, ref in (("embedded", "flag_args"), ("embedded-main", "main_args")):
        with pytest.raises(PlanError) as e:
            project.plan(op)
        assert e.value.message == ("invalid setting for operation: command contains invalid "
                                   f"reference '{ref}'")
    assert "argv ['--lr', '0.1']" in project.run("main-marker").stdout
    data = os.path.join(project.root, "data")
    assert f"argv ['--data-dir', '{data}']" in project.run("main-pd").stdout


# 5. a step opspec Guild cannot parse (`:op`) stops the workflow before anything runs
def test_invalid_step_opspec_refused(project):
    project.guildfile("""
bye:
  exec: echo bye
wf:
  steps:
    - :bye
""")
    with pytest.raises(PlanError) as e:
        project.plan("wf")
    assert str(e.value) == "wf: step 1 (:bye): invalid reference: ':bye'"


# 6. batches (list values, list defaults, batch files): tests/executor/test_batch.py
def test_imported_list_global_is_not_a_batch(project):
    project.write("g.py", "g = [1, 2]\nprint('g', g)\n")
    project.guildfile("""
glob:
  main: g
  flags-import: all
""")
    # an imported list global is a splittable value (Guild: arg-split), not a batch
    assert "g [1, 2]" in project.run("glob").stdout


# 7. --minimize / --maximize / --max-trials without search values: a normal run
def test_non_batch_options_run(project):
    project.guildfile("""
train:
  exec: "echo loss: 0.5"
wf:
  steps:
    - train --minimize loss
    - run: train
      maximize: acc
    - train --max-trials 1
""")
    res = project.run("wf")
    assert res.exit_code == 0, res.output
    assert res.stdout.count("loss: 0.5") == 3
    assert "INFO: [guild] running train: train --minimize loss" in res.stderr
    assert "INFO: [guild] running train: train --maximize acc" in res.stderr
    assert "WARNING: not a batch run - ignoring --max-trials" in res.stderr


# 9. a main module only on python-path: Guild's run fails `No module named evaluate`
def test_main_only_on_python_path_refused(project):
    project.write("lib/evaluate.py", "threshold = 0.5\nprint('threshold', threshold)\n")
    project.guildfile("""
evaluate:
  main: evaluate
  python-path: lib
  flags-import: all
direct:
  main: lib/evaluate
  flags-import: all
""")
    with pytest.raises(PlanError) as e:
        project.plan("evaluate")
    assert e.value.message == "No module named evaluate"
    assert "main: lib/evaluate" in e.value.hint
    assert "threshold 0.7" in project.run("direct", ["threshold=0.7"]).stdout


# 10. the python_script plugin's source rules apply to Python ops only (same tree in Guild)
def test_python_plugin_sourcecode_rules(project):
    from guildls.executor.sourcecode import select_for

    for rel in ("__pycache__/c.txt", "build/b.py", "dist/d.py", "env1/bin/activate",
                "env2/e.py", "env2/pyvenv.cfg", "list.py", "main.py", "node_modules/x/i.js",
                "pkg.egg-info/PKG-INFO"):
        project.write(rel, "x\n")
    gf = project.guildfile("""
pyop:
  main: list
pyexec:
  exec: ${python_exe} list.py
shop:
  exec: python3 list.py
""")
    ops = gf.models[""].operations
    python = ["env2/e.py", "env2/pyvenv.cfg", "guild.yml", "list.py", "main.py",
              "node_modules/x/i.js"]
    everything = sorted(python + ["__pycache__/c.txt", "build/b.py", "dist/d.py",
                                  "env1/bin/activate", "pkg.egg-info/PKG-INFO"])
    for name, want in (("pyop", python), ("pyexec", python), ("shop", everything)):
        assert sorted(select_for(ops[name], project.root).files()) == want, name


# 11. source-level preserve-path keeps the source's dirs; rename is shlex-split (count=1)
def test_dependency_preserve_path_and_rename(project):
    project.write("data/sub/c.csv", "c\n")
    project.write("data/a.csv", "a\n")
    project.write("model.txt", "m\n")
    project.guildfile("""
use:
  exec: sh -c "find . -path ./.guild -prune -o -type f -print | sort"
  sourcecode: no
  requires:
    - file: data/sub/c.csv
      preserve-path: yes
    - file: data/a.csv
      rename: "a(.*) renamed\\\\1"
    - file: model.txt
      target-path: models
      rename: m2
""")
    res = project.run("use")
    assert res.exit_code == 0, res.output
    assert res.stdout.split() == ["./data/sub/c.csv", "./models/m2", "./renamed1"]


# 12. arg-encoding / env-encoding; env falls back to the arg encoding (Guild's _encode_env_val)
def test_arg_and_env_encoding(project):
    project.guildfile("""
train:
  exec: sh -c "echo FLAG_MODE=$FLAG_MODE FLAG_E=$FLAG_E args=$0 $1 $2 $3 ref=${mode}" ${flag_args}
  flags:
    mode:
      default: yes
      arg-encoding: {yes: fast, no: slow}
    e:
      default: 1
      arg-encoding: {1: one}
      env-encoding: {1: uno}
""")
    res = project.run("train")
    assert "FLAG_MODE=fast FLAG_E=uno args=--e one --mode fast ref=1" in res.stdout


# 13. very deep workflow nesting: a clear plan error, never a RecursionError
def test_deep_nesting_refused_clearly(project):
    from guildls.executor.plan import MAX_NESTING

    n = 1500
    text = "".join(f"w{i}:\n  steps:\n    - w{i + 1}\n" for i in range(n)) + f"w{n}:\n  exec: echo end\n"
    project.guildfile(text)
    with pytest.raises(PlanError) as e:
        project.plan("w0")
    assert e.value.message.startswith(f"workflows nested deeper than {MAX_NESTING} levels (w0 > … >")
    ok = project.plan(f"w{n - MAX_NESTING + 1}")  # the deepest accepted chain
    assert ok.count() == MAX_NESTING - 1
    ok.to_text()
    json.dumps(ok.to_json())
    res = project.run(f"w{n - MAX_NESTING + 1}")
    assert res.exit_code == 0 and "end" in res.stdout


# 15. values Guild cannot compare with min/max (string bounds, text in untyped flags) crash
# Guild with a TypeError: refused in the plan, naming the step
def test_uncomparable_range_refused(project):
    project.guildfile("""
strmin:
  exec: echo ${x}
  flags:
    x: {default: 1, min: '0'}
untyped:
  exec: echo ${x}
  flags:
    x: {default: 1, min: 0, max: 10}
split:
  exec: echo ${x}
  flags:
    x: {default: '1 2', min: 0, arg-split: yes}
wf:
  steps:
    - untyped x=abc
""")
    with pytest.raises(PlanError) as e:
        project.plan("strmin")
    assert e.value.message.startswith("invalid value 1 for x: cannot be compared with min '0'")
    with pytest.raises(PlanError) as e:
        project.plan("wf")
    assert str(e.value).startswith(
        "wf: step 1 (untyped x=abc): invalid value abc for x: cannot be compared with min 0")
    assert project.plan("untyped", ["x=5"]).flags == {"x": 5}
    project.plan("split")
