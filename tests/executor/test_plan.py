"""Plan: Guild's step flag semantics, and refusal before anything runs."""

import pytest

from guildls.executor.plan import PlanError

SHOW = """
x = 0
y = 0
name = "plain"
print(f"show x={x!r} y={y!r} name={name!r}")
"""

OP = """
op:
  main: show
  flags:
    x: 0
    y: 0
    name: plain
"""


def _lines(plan):
    return [s.running_line() for s in plan.walk()]


def test_step_flags_as_args(project):
    project.write("show.py", SHOW)
    project.guildfile(OP + """
wf:
  steps:
    - op x=1 y=2
    - op x=3 name='two words'
    - op
""")
    plan = project.plan("wf")
    assert _lines(plan) == [
        "INFO: [guild] running op: op x=1 y=2",
        "INFO: [guild] running op: op name='two words' x=3",
        "INFO: [guild] running op: op",
    ]
    assert [s.flags for s in plan.steps] == [
        {"x": 1, "y": 2, "name": "plain"},
        {"x": 3, "y": 0, "name": "two words"},
        {"x": 0, "y": 0, "name": "plain"},
    ]


def test_flags_mapping_replaces_run_assigns(project):
    project.write("show.py", SHOW)
    project.guildfile(OP + """
wf:
  steps:
    - run: op
      flags: {x: 1, y: 2}
    - run: op x=3
      flags: {y: 4}
    - run: op x=5
      flags: {x: 6}
    - run: op
      name: typed
      flags: {x: 1.5, y: true, name: 007}
    - run: op
      name: dictval
      flags:
        x: {default: 8, description: a flag-def-like mapping}
""")
    plan = project.plan("wf")
    flags = [s.flags for s in plan.steps]
    assert flags[0] == {"x": 1, "y": 2, "name": "plain"}
    assert flags[1] == {"x": 0, "y": 4, "name": "plain"}  # inline x=3 dropped (C07)
    assert flags[2]["x"] == 6
    # 007 -> int 7 in YAML, crosses as text and becomes the string '7' (script's type)
    assert flags[3] == {"x": 1.5, "y": True, "name": "7"}
    assert flags[4]["x"] == 8
    assert plan.steps[3].running_line() == "INFO: [guild] running typed: op name=7 x=1.5 y=yes"


def test_parent_flag_refs_and_no_implicit_passing(project):
    project.write("show.py", SHOW)
    project.guildfile(OP + """
wf:
  flags: {x: 10, y: 20, tag: base}
  steps:
    - op x=${x} y=${y}
    - run: op
      flags: {x: '${x}', name: 'run-${tag}-${x}'}
    - op name='${tag} and ${y}'
    - op
""")
    plan = project.plan("wf", ["x=5"])
    assert plan.flags == {"x": 5, "y": 20, "tag": "base"}
    assert _lines(plan) == [
        "INFO: [guild] running op: op x=5 y=20",
        "INFO: [guild] running op: op name=run-base-5 x=5",
        "INFO: [guild] running op: op name='base and 20'",
        "INFO: [guild] running op: op",
    ]
    assert plan.steps[3].flags["x"] == 0  # C10


def test_prefixed_parent_flags_override_with_force_flags(project):
    project.write("show.py", SHOW)
    project.guildfile(OP + """
wf:
  steps:
    - op x=1 y=2
    - op
""")
    with pytest.raises(PlanError) as e:
        project.plan("wf", ["op:x=5"])
    assert "unsupported flag 'op:x'" in str(e.value)
    plan = project.plan("wf", ["op:x=5"], force_flags=True)
    assert [s.flags["x"] for s in plan.steps] == [5, 5]


def test_undeclared_workflow_flag(project):
    project.write("show.py", SHOW)
    project.guildfile(OP + """
wf:
  steps: [op]
""")
    with pytest.raises(PlanError) as e:
        project.plan("wf", ["x=5"])
    assert e.value.message == "unsupported flag 'x'"
    assert "Try 'guild run wf --help-op'" in e.value.hint


def test_unknown_operation_names_the_step(project):
    project.write("show.py", SHOW)
    project.guildfile(OP + """
wf:
  steps: [op, no-such-op, op]
""")
    with pytest.raises(PlanError) as e:
        project.plan("wf")
    assert e.value.message == "operation 'no-such-op' is not defined for this project"
    assert "step 2 (no-such-op)" in e.value.where


def test_undefined_reference_names_ref_and_step(project):
    project.write("show.py", SHOW)
    project.guildfile(OP + """
wf:
  flags: {x: 1}
  steps:
    - op x=${x}
    - op y=${nope}
""")
    with pytest.raises(PlanError) as e:
        project.plan("wf")
    assert "'${nope}'" in e.value.message
    assert "step 2 (op y=${nope})" in e.value.where


def test_unknown_flag_in_step(project):
    project.write("show.py", SHOW)
    project.guildfile(OP + """
wf:
  steps: [op zzz=1]
wf-forced:
  steps:
    - run: op zzz=1
      force-flags: yes
""")
    with pytest.raises(PlanError) as e:
        project.plan("wf")
    assert e.value.message == "unsupported flag 'zzz'"
    assert project.plan("wf-forced").steps[0].flags["zzz"] == 1


def test_bad_values_use_guild_wording(project):
    project.guildfile("""
op:
  exec: echo ${n}
  flags:
    n: {type: int, default: 1, min: 0, max: 10}
    opt: {choices: [sgd, adam], default: sgd}
wf-type:
  steps: [op n=abc]
wf-range:
  steps: [op n=11]
wf-choice:
  steps: [op opt=bad]
""")
    with pytest.raises(PlanError) as e:
        project.plan("wf-type")
    assert e.value.message == "invalid value abc for n: invalid value for type 'int'"
    with pytest.raises(PlanError) as e:
        project.plan("wf-range")
    assert e.value.message == "invalid value 11 for n: out of range (greater than max 10)"
    with pytest.raises(PlanError) as e:
        project.plan("wf-choice")
    assert e.value.message.startswith("Unsupported value for 'opt' - supported values are:")


def test_script_global_types(project):
    # y is untyped in guild.yml but `y = 0` in the script: a number (C11)
    project.write("show.py", SHOW)
    project.guildfile(OP + """
wf:
  flags: {y: 20}
  steps:
    - op y=${y}
""")
    with pytest.raises(PlanError) as e:
        project.plan("wf", ["y=hello"])
    assert e.value.message == "invalid value hello for y: invalid value for type 'number'"


def test_nested_workflows(project):
    project.write("show.py", SHOW)
    project.guildfile("""
a: {main: show, flags: {x: 0, y: 0, name: a}}
b: {main: show, flags: {x: 0, y: 0, name: b}}
inner:
  flags: {x: 1}
  steps:
    - a x=${x}
    - b x=${x}
outer:
  flags: {x: 100}
  steps:
    - inner x=${x}
    - a name=after-inner
""")
    plan = project.plan("outer", ["x=5"])
    assert plan.count() == 4
    inner = plan.steps[0]
    assert inner.kind == "steps"
    assert [s.flags["x"] for s in inner.steps] == [5, 5]
    assert plan.steps[1].flags == {"x": 0, "y": 0, "name": "after-inner"}
    assert plan.to_json()["steps"][0]["steps"][1]["operation"] == "b"


def test_cycle_is_refused(project):
    project.guildfile("""
a:
  steps: [b]
b:
  steps: [a]
""")
    with pytest.raises(PlanError) as e:
        project.plan("a")
    assert "cycle" in e.value.message and "a -> b -> a" in e.value.message


def test_model_qualified_steps(project):
    project.write("mq.py", "tag = 'x'\nprint(tag)\n")
    project.guildfile("""
- model: data
  operations:
    prepare: {main: mq, flags: {tag: data-prepare}}
- model: pipe
  operations:
    helper: {main: mq, flags: {tag: pipe-helper}}
    all:
      steps:
        - data:prepare
        - run: helper
          name: help-me
    cross:
      steps: [prepare]
""")
    plan = project.plan("pipe:all")
    assert [(s.name, s.opspec) for s in plan.steps] == [("data:prepare", "data:prepare"),
                                                       ("help-me", "pipe:helper")]
    with pytest.raises(PlanError) as e:
        project.plan("pipe:cross")
    assert e.value.message == "operation 'prepare' is not defined for model 'pipe'"
    with pytest.raises(PlanError) as e:
        project.plan("all")
    assert e.value.message == "cannot find operation all"


def test_labels_tags_inherit_and_resolve(project):
    project.write("ok.py", "n = 1\n")
    project.guildfile("""
prep: {main: ok, flags: {n: 1}}
wf:
  flags: {n: 9}
  steps:
    - prep
    - run: prep n=3
      label: step-label-${n}
      tags: [t1]
""")
    plan = project.plan("wf", label="outer-label", tags=["blue"])
    s1, s2 = plan.steps
    assert s1.options["label"] == "outer-label" and s1.options["tags"] == ["blue"]
    assert s2.options["label"] == "step-label-9" and s2.options["tags"] == ["t1"]
    assert s2.running_line() == "INFO: [guild] running prep: prep --label step-label-9 --tag t1 n=3"


def test_empty_steps_refused(project):
    project.guildfile("""
wf-empty:
  steps: []
""")
    with pytest.raises(PlanError) as e:
        project.plan("wf-empty")
    assert "empty steps list" in e.value.message


def test_list_form_step_flags_refused(project):
    project.guildfile("""
op: {exec: echo hi, flags: {x: 1}}
wf:
  steps:
    - run: op
      flags: [x=7]
""")
    with pytest.raises(PlanError):
        project.plan("wf")


def test_exec_undefined_reference(project):
    project.guildfile("""
undef:
  exec: echo value=${not_a_flag}
""")
    with pytest.raises(PlanError) as e:
        project.plan("undef")
    assert e.value.message == ("invalid setting for operation: command contains invalid "
                               "reference 'not_a_flag'")


def test_batch_workflows_are_refused(project):
    # a workflow with list values would be a batch of workflows in Guild: refused
    project.guildfile("""
wf:
  flags: {x: 1}
  steps:
    - op
op:
  exec: echo ${x}
  flags: {x: 1}
""")
    with pytest.raises(PlanError) as e:
        project.plan("wf", ["x=[1,2]"])
    assert "batch" in e.value.message and "x=[1, 2]" in e.value.message

def test_globals_flags_import(project):
    # flags-import with a globals script: the imported flags are known (C21)
    project.write("train_globals.py", "lr = 0.01\nepochs = 1\nopt = 'sgd'\n_private = 1\n")
    project.guildfile("""
globs:
  main: train_globals
  flags-import: all
globs-override:
  main: train_globals
  flags-import: [lr]
  flags:
    epochs:
      default: 7
""")
    assert project.plan("globs").flags == {"lr": 0.01, "epochs": 1, "opt": "sgd"}
    assert project.plan("globs-override").flags == {"lr": 0.01, "epochs": 7}
    with pytest.raises(PlanError) as e:
        project.plan("globs-override", ["opt=adam"])
    assert e.value.message == "unsupported flag 'opt'"
    with pytest.raises(PlanError) as e:
        project.plan("globs", ["lr=fast"])
    assert e.value.message == "invalid value fast for lr: invalid value for type 'number'"


def test_argparse_flags_read_statically(project):
    project.write("train_argparse.py", """
import argparse
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.01, help="learning rate")
p.add_argument("--epochs", type=int, default=1)
p.add_argument("--opt", default="sgd", choices=["sgd", "adam"])
p.add_argument("--fast", action="store_true")
p.parse_args()
""")
    project.guildfile("""
argp:
  main: train_argparse
  flags-import: all
argp-some:
  main: train_argparse
  flags-import: [lr]
""")
    assert project.plan("argp").flags == {"lr": 0.01, "epochs": 1, "opt": "sgd", "fast": False}
    assert project.plan("argp-some").flags == {"lr": 0.01}
    with pytest.raises(PlanError) as e:
        project.plan("argp", ["opt=bad"])  # C20
    assert e.value.message.startswith("Unsupported value for 'opt' - supported values are:")
    with pytest.raises(PlanError) as e:
        project.plan("argp", ["epochs=1.5"])
    assert e.value.message == "invalid value 1.5 for epochs: invalid value for type 'int'"
    # read completely: Guild 0.9 refuses other names too ("unsupported flag 'foo'", checked
    # with `guild run`; tests/oracle/test_script_flags_guild.py)
    with pytest.raises(PlanError) as e:
        project.plan("argp", ["extra=1"])
    assert e.value.message == "unsupported flag 'extra'"
    # a parser handed to a helper may get arguments we cannot see: the set stays open
    project.write("train_helper.py", """
import argparse
import helpers
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.01)
helpers.add(p)
p.parse_args()
""")
    project.guildfile("""
argp:
  main: train_helper
  flags-import: all
""")
    assert project.plan("argp", ["extra=1"]).flags["extra"] == 1
