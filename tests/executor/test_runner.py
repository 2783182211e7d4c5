"""Runner: real child processes on tiny projects; Guild-layout records."""

import os
import threading

import pytest
import yaml

from guildls import runs as R
from guildls.executor.plan import PlanError
from guildls.executor.runner import Runner
from procutil import alive  # tests/, on sys.path (tests/conftest.py)
from trialmarks import wait_until

SHOW = """
x = 0
y = 0
name = "plain"
print(f"show x={x!r} y={y!r} name={name!r}")
"""

SEED = """
prepare-data:
  main: prepare
  flags:
    rows: 5
train:
  main: train
  flags:
    epochs: 2
    lr: 0.1
  requires:
    - operation: prepare-data
test:
  main: test
  requires:
    - operation: train
    - operation: prepare-data
end-to-end:
  steps:
    - prepare-data
    - train
    - test
"""


def _seed(project):
    project.write("prepare.py", """
        rows = 5
        with open("data.csv", "w") as f:
            for i in range(rows):
                f.write(f"{i},{i * 2}\\n")
        print(f"prepared {rows} rows")
        """)
    project.write("train.py", """
        epochs = 2
        lr = 0.1
        data = open("data.csv").read().splitlines()
        with open("model.txt", "w") as f:
            f.write(f"epochs={epochs} lr={lr} rows={len(data)}\\n")
        print(f"trained epochs={epochs} lr={lr} on {len(data)} rows")
        print(f"loss: {1.0 / (epochs + 1):.4f}")
        """)
    project.write("test.py", """
        model = open("model.txt").read().strip()
        data = open("data.csv").read().splitlines()
        print(f"tested model [{model}] on {len(data)} rows")
        print("accuracy: 0.9")
        """)
    project.guildfile(SEED)


def _attr(project, run_id, name):
    with open(os.path.join(project.runs_root, run_id, ".guild", "attrs", name)) as f:
        return yaml.safe_load(f)


def test_seed_workflow_records_and_dependencies(project):
    _seed(project)
    res = project.run("end-to-end")
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert out.index("prepared 5 rows") < out.index("trained epochs=2 lr=0.1 on 5 rows") \
        < out.index("accuracy: 0.9")
    assert "INFO: [guild] running train: train" in res.stderr
    names = [r.name for r in res.runs]
    assert names == ["end-to-end", "prepare-data", "train", "test"]
    assert all(r.status == "completed" for r in res.runs)
    parent, prep, train, test = (r.id for r in res.runs)
    pdir = os.path.join(project.runs_root, parent)
    # links named like Guild's, relative
    for name, rid in (("prepare-data", prep), ("train", train), ("test", test)):
        link = os.path.join(pdir, name)
        assert os.readlink(link) == f"../{rid}"
    # dependency wiring (C02): flags name this workflow's runs, files are copies
    assert _attr(project, train, "flags")["operation:prepare-data"] == prep
    tflags = _attr(project, test, "flags")
    assert tflags["operation:train"] == train and tflags["operation:prepare-data"] == prep
    tdir = os.path.join(project.runs_root, test)
    for f in ("data.csv", "model.txt"):
        assert os.path.isfile(os.path.join(tdir, f)) and not os.path.islink(os.path.join(tdir, f))
    assert _attr(project, test, "deps")["operation:train"]["operation:train"]["paths"] == [
        f"../{train}/model.txt"]  # upstream's own dependency files are not passed on
    # records
    assert _attr(project, parent, "steps") == ["prepare-data", "train", "test"]
    assert _attr(project, parent, "exit_status") == 0
    with open(os.path.join(pdir, ".guild", "output")) as f:
        parent_out = f.read()
    assert "INFO: [guild] running test: test" in parent_out and "accuracy: 0.9" in parent_out
    with open(os.path.join(project.runs_root, train, ".guild", "opref")) as f:
        assert f.read().endswith(" '' train")
    assert not os.path.exists(os.path.join(project.runs_root, train, ".guild", "LOCK"))


def test_failing_middle_step_keeps_exit_code(project):
    project.write("ok.py", "import sys\nprint('ok step', sys.argv[0].rsplit('/', 1)[-1])\n")
    project.write("boom.py", """
        import sys
        print("boom: about to fail", file=sys.stderr)
        print("boom: exiting with code 3")
        sys.exit(3)
        """)
    project.guildfile("""
first: {main: ok}
boom: {main: boom}
last: {main: ok}
wf:
  steps: [first, boom, last]
""")
    res = project.run("wf")
    assert res.exit_code == 3
    assert [(r.name, r.status, r.exit_status) for r in res.runs] == [
        ("wf", "error", 3), ("first", "completed", 0), ("boom", "error", 3)]
    assert "running last" not in res.stderr
    assert "boom: exiting with code 3" in res.stdout and "boom: about to fail" in res.stderr
    parent = res.runs[0].id
    assert sorted(n for n in os.listdir(os.path.join(project.runs_root, parent)) if n != ".guild") \
        == ["boom", "first"]


def test_failed_expect_stops_with_3(project):
    project.write("gen.py", "msg = 'hi'\nprint(msg)\nopen('gen.txt', 'w').write(msg)\n")
    project.guildfile("""
gen: {main: gen, flags: {msg: hi}}
check-pass:
  steps:
    - run: gen msg='hello car'
      expect:
        - output: hello
        - file: gen.txt
          contains: car
check-fail:
  steps:
    - run: gen
      expect:
        - output: bye
    - gen msg=after-fail
""")
    ok = project.run("check-pass")
    assert ok.exit_code == 0 and "INFO: [guild] 2 of 2 checks passed" in ok.stderr
    res = project.run("check-fail")
    assert res.exit_code == 3
    assert [(r.name, r.status) for r in res.runs] == [("check-fail", "error"), ("gen", "completed")]
    assert "ERROR: [guild] check failed: could not find pattern 'bye'" in res.stderr
    assert "guild: stopping because a check failed" in res.stderr


def test_unknown_op_and_undefined_ref_caught_before_anything_runs(project):
    project.write("ok.py", "print('ran')\n")
    project.guildfile("""
first: {main: ok}
wf-missing:
  steps: [first, no-such-op]
wf-ref:
  flags: {x: 1}
  steps:
    - first
    - run: first
      label: ${nope}
""")
    for op in ("wf-missing", "wf-ref"):
        with pytest.raises(PlanError):
            project.run(op)
    assert project.run_ids() == []  # nothing ran, nothing recorded


def test_requires_links_previous_step_output(project):
    project.write("produce.py", """
        import os
        n = 3
        os.makedirs("out", exist_ok=True)
        for i in range(n):
            open(f"out/part-{i}.txt", "w").write(f"part {i}\\n")
        open("summary.txt", "w").write(f"n={n}\\n")
        """)
    project.write("consume.py", """
        import os
        for root, dirs, files in sorted(os.walk(".")):
            if root.startswith("./.guild"):
                continue
            for name in sorted(files):
                p = os.path.join(root, name)
                print("sees", p, "link" if os.path.islink(p) else "file")
        """)
    project.guildfile(r"""
upstream: {main: produce, flags: {n: 3}}
downstream:
  main: consume
  requires:
    - operation: upstream
      select: out/.*\.txt
      target-path: inputs
downstream-link:
  main: consume
  requires:
    - operation: upstream
      name: up
      select: summary.txt
      target-type: link
pipeline:
  flags: {n: 2}
  steps:
    - upstream n=${n}
    - downstream
    - downstream-link
wf-isolated:
  steps: [downstream]
wf-not-isolated:
  steps:
    - run: downstream
      isolate-runs: no
""")
    res = project.run("pipeline")
    assert res.exit_code == 0, res.output
    assert "sees ./inputs/part-0.txt file" in res.stdout
    assert "sees ./inputs/part-1.txt file" in res.stdout
    assert "part-2" not in res.stdout
    assert "sees ./summary.txt link" in res.stdout
    up, down_link = res.runs[1].id, res.runs[3].id
    assert _attr(project, down_link, "flags")["up"] == up
    link = os.path.join(project.runs_root, down_link, "summary.txt")
    assert os.readlink(link) == f"../{up}/summary.txt"
    # isolation: a workflow step only sees runs of its own workflow (C29)
    iso = project.run("wf-isolated")
    assert iso.exit_code == 1
    assert "could not resolve 'operation:upstream'" in iso.stderr
    assert project.run("wf-not-isolated").exit_code == 0


def test_nested_and_model_qualified_links(project):
    project.write("show.py", SHOW)
    project.guildfile("""
- model: m
  operations:
    a: {main: show, flags: {x: 0, y: 0, name: a}}
    inner:
      flags: {x: 1}
      steps:
        - a x=${x}
        - run: m:a
          name: second
    outer:
      flags: {x: 100}
      steps:
        - inner x=${x}
        - inner
        - m:a name=after
""")
    res = project.run("m:outer", ["x=5"])
    assert res.exit_code == 0, res.output
    assert res.stdout.count("show x=5") == 1 and res.stdout.count("show x=1") == 1
    assert res.stdout.count("show x=0 y=0 name='a'") == 2
    assert "show x=0 y=0 name='after'" in res.stdout
    outer = os.path.join(project.runs_root, res.runs[0].id)
    assert sorted(n for n in os.listdir(outer) if n != ".guild") == ["inner", "inner_2", "m-a"]
    inner = os.path.realpath(os.path.join(outer, "inner"))
    assert sorted(n for n in os.listdir(inner) if n not in (".guild",)) == ["a", "second"]
    assert len(project.run_ids()) == 8


def test_flag_values_with_spaces_and_shell_characters(project, tmp_path):
    marker = tmp_path / "pwned"
    project.write("echo_args.py", """
        import argparse, sys
        p = argparse.ArgumentParser()
        p.add_argument("--msg")
        print("argv", sys.argv[1:])
        """)
    project.guildfile(f"""
say:
  exec: echo "msg=${{msg}}"
  flags:
    msg: hi
py:
  main: echo_args
  flags:
    msg: hi
wf:
  steps:
    - say msg='a b; touch {marker}'
    - py msg='$(touch {marker}) `touch {marker}` && x|y'
""")
    res = project.run("wf")
    assert res.exit_code == 0, res.output
    assert f"msg=a b; touch {marker}\n" in res.stdout
    assert f"argv ['--msg', '$(touch {marker}) `touch {marker}` && x|y']" in res.stdout
    assert not marker.exists()
    assert f"running say: say msg='a b; touch {marker}'" in res.stderr


def test_stop_ends_process_group(project, tmp_path):
    pidfile = tmp_path / "pids"
    project.write("long.py", f"""
        import os, subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        open({str(pidfile)!r}, "w").write(f"{{os.getpid()}} {{child.pid}}")
        print("started", flush=True)
        time.sleep(600)
        """)
    project.write("ok.py", "print('after')\n")
    project.guildfile("""
long: {main: long}
after: {main: ok}
wf:
  steps: [long, after]
""")
    from guildls.executor.runner import Runner

    plan = project.plan("wf")
    started = threading.Event()
    runner = Runner(plan, project.root, project.path, env=project.env(), kill_grace=2.0,
                    on_output=lambda rid, s, t: "started" in t and started.set())
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("res", runner.run()))
    t.start()
    assert started.wait(120)
    pids = [int(p) for p in pidfile.read_text().split()]
    runner.stop()
    # the step and its child sleep 600 s: the run ends well before only when stop ends them
    t.join(120)
    assert not t.is_alive()
    res = box["res"]
    assert res.exit_code == -15 and res.status == "terminated"
    assert [(r.name, r.status) for r in res.runs] == [("wf", "terminated"), ("long", "terminated")]
    wait_until(lambda: not any(alive(p) for p in pids), 60, "the step and its child to end")
    assert _attr(project, res.runs[1].id, "exit_status") == -15



def test_exec_substitution_and_python_exe(project):
    project.guildfile("""
hello:
  exec: echo hello ${msg} x=${x}
  flags: {msg: world, x: 1}
write:
  exec: sh -c "echo value=${x} > exec-out.txt; cat exec-out.txt"
  flags: {x: 2}
pyargs:
  exec: ${python_exe} -c "import sys; print('argv', sys.argv[1:])" ${flag_args}
  flags: {a: 1, b: two}
""")
    assert "hello there x=5" in project.run("hello", ["msg=there", "x=5"]).stdout
    res = project.run("write")
    with open(os.path.join(project.runs_root, res.runs[0].id, "exec-out.txt")) as f:
        assert f.read() == "value=2\n"
    assert "argv ['--a', '1', '--b', 'two']" in project.run("pyargs").stdout


def test_standalone_dependency_missing(project):
    _seed(project)
    res = project.run("test")
    assert res.exit_code == 1
    assert ("could not resolve 'operation:train' in operation:train resource: "
            "no suitable run for train") in res.stderr
    run = R.Run(res.runs[0].id, os.path.join(project.runs_root, res.runs[0].id))
    assert run.status == "error" and run.get("started") is None


def test_globals_flags_reach_script(project):
    _seed(project)
    project.run("prepare-data")
    res = project.run("train", ["epochs=5", "lr=0.5"])
    assert "trained epochs=5 lr=0.5 on 5 rows" in res.stdout


def test_sigterm_ignoring_step_is_killed(project):
    project.write("stubborn.py", """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ready", flush=True)
        time.sleep(600)
        """)
    project.guildfile("stubborn: {main: stubborn}\n")
    plan = project.plan("stubborn")
    ready = threading.Event()
    runner = Runner(plan, project.root, project.path, env=project.env(), kill_grace=0.3,
                    on_output=lambda rid, s, t: "ready" in t and ready.set())
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("res", runner.run()))
    t.start()
    assert ready.wait(120)
    runner.stop()
    # it ignores SIGTERM and sleeps 600 s: only the SIGKILL after the grace ends it
    t.join(120)
    assert not t.is_alive()
    assert box["res"].status == "terminated"


def test_lingering_grandchild_does_not_hang_the_workflow(project):
    pidfile = os.path.join(project.root, "daemon.pid")
    project.write("bg.py", f"""
        import subprocess, sys
        p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                             start_new_session=True)
        open({pidfile!r}, "w").write(str(p.pid))
        print("left a daemon behind")
        """)
    project.write("ok.py", "print('next step')\n")
    project.guildfile("""
bg: {main: bg}
ok: {main: ok}
wf:
  steps: [bg, ok]
""")
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("res", project.run("wf", reader_grace=0.2)))
    t.start()
    try:
        # the daemon holds the step's output open for 600 s: the workflow must not wait for it
        t.join(120)
        assert not t.is_alive(), "the workflow waited for a daemon its step left behind"
        res = box["res"]
        assert res.exit_code == 0 and "next step" in res.stdout
    finally:
        if os.path.exists(pidfile):
            try:
                os.kill(int(open(pidfile).read()), 9)
            except (ProcessLookupError, ValueError):
                pass
        t.join(700)


def test_executor_failure_is_reported_and_runs_finalized(project, monkeypatch):
    project.write("ok.py", "print('ok')\n")
    project.guildfile("ok: {main: ok}\nwf:\n  steps: [ok]\n")
    from guildls.executor import runner as runner_mod

    def boom(*a, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runner_mod.Runner, "_command", boom)
    res = project.run("wf")
    assert res.exit_code == 1 and "No space left on device" in res.message
    for rid in project.run_ids():
        run = R.Run(rid, os.path.join(project.runs_root, rid))
        assert run.status == "error", rid


def test_utf8_output_split_across_reads(project):
    # a multi-byte character written in two pieces must reach the callback intact
    project.write("utf.py", """
        import sys, time
        data = "héllo ✓\\n".encode()
        sys.stdout.buffer.write(data[:2]); sys.stdout.flush(); time.sleep(0.05)
        sys.stdout.buffer.write(data[2:]); sys.stdout.flush()
        """)
    project.guildfile("utf: {main: utf}\n")
    res = project.run("utf")
    assert res.stdout == "héllo ✓\n"


def test_file_dependencies(project):
    """`requires: file:` copies (default) or links project files into the run dir; named
    resources, select, target-path, rename (checked against Guild 0.9.0)."""
    project.write("data.csv", "a\n")
    project.write("dir/b.txt", "b\n")
    project.write("dir/sub/c.txt", "c\n")
    project.write("show.py", """
        import os
        for r, d, f in sorted(os.walk(".")):
            if ".guild" in r:
                continue
            for n in sorted(f):
                p = os.path.join(r, n)
                print("sees", p, "link" if os.path.islink(p) else "file")
        """)
    project.guildfile(r"""
- model: m
  resources:
    data:
      - file: data.csv
      - file: dir
        select: .*c\.txt
  operations:
    plain:
      main: show
      sourcecode: show.py
      requires:
        - file: data.csv
        - file: dir
    typed:
      main: show
      sourcecode: show.py
      requires:
        - file: dir
          target-path: inputs
          select: .*\.txt
          target-type: link
        - file: data.csv
          rename: data train
    named:
      main: show
      sourcecode: show.py
      requires: data
    missing:
      main: show
      requires:
        - file: nope.csv
    remote:
      main: show
      requires:
        - url: https://example.com/x.zip
    undefined:
      main: show
      requires: nope
""")
    out = project.run("m:plain").stdout
    assert "sees ./data.csv file" in out and "sees ./dir/sub/c.txt file" in out
    out = project.run("m:typed").stdout
    assert "sees ./inputs/b.txt link" in out and "sees ./inputs/c.txt link" in out
    assert "sees ./train.csv file" in out
    res = project.run("m:named")
    assert "sees ./c.txt file" in res.stdout and "sees ./data.csv file" in res.stdout
    assert "Resolving data" in res.stderr
    res = project.run("m:missing")
    assert res.exit_code == 1
    assert ("could not resolve 'file:nope.csv' in file:nope.csv resource: cannot find source "
            "file 'nope.csv'") in res.stderr
    with pytest.raises(PlanError) as e:
        project.plan("m:remote")
    assert "url sources" in e.value.message
    with pytest.raises(PlanError) as e:
        project.plan("m:undefined")
    assert "resource 'nope' required by operation 'm:undefined' is not defined" in e.value.message


def test_script_targets(project):
    # `guild run train.py` and a step `- train.py lr=0.5` (operation-only guild file)
    project.write("train.py", "lr = 0.1\nepochs = 1\nprint(f'train lr={lr} epochs={epochs}')\n")
    project.guildfile("""
wf:
  steps:
    - train.py lr=0.5
""")
    assert "train lr=0.2 epochs=1" in project.run("train.py", ["lr=0.2"]).stdout
    res = project.run("wf")
    assert res.exit_code == 0 and "train lr=0.5 epochs=1" in res.stdout
    assert "INFO: [guild] running train.py: train.py lr=0.5" in res.stderr
    with pytest.raises(PlanError) as e:
        project.plan("train.py", ["nope=1"])
    assert e.value.message == "unsupported flag 'nope'"
    with pytest.raises(PlanError) as e:
        project.plan("train.py", ["lr=abc"])
    assert "invalid value for type 'number'" in e.value.message


def test_multi_value_argparse_flag(project):
    project.write("multi.py", """
import argparse
p = argparse.ArgumentParser()
p.add_argument("--layers", type=int, nargs="+", default=[1, 2])
print("layers", p.parse_args().layers)
""")
    project.guildfile("multi: {main: multi, flags-import: all}\n")
    assert "layers [1, 2]" in project.run("multi").stdout
    assert "layers [3, 4, 5]" in project.run("multi", ["layers=3 4 5"]).stdout


def test_stop_between_spawn_and_registration_still_ends_the_step(project, monkeypatch):
    """A stop that lands after the step's process is spawned but before the runner has
    registered it (a busy machine: the child runs first) must still end that process."""
    project.write("long.py", "import time\nprint('started', flush=True)\ntime.sleep(60)\n")
    project.guildfile("long: {main: long}\nwf:\n  steps: [long]\n")
    from guildls.executor import runner as runner_mod
    from guildls.executor.runner import Runner

    plan = project.plan("wf")
    runner = Runner(plan, project.root, project.path, env=project.env(), kill_grace=0.5)
    real_popen = runner_mod.subprocess.Popen

    def popen_then_stop(*a, **kw):
        proc = real_popen(*a, **kw)
        if "long" in " ".join(map(str, a[0])):
            runner.stop()  # the stop the user asked for, before the runner saw proc
        return proc

    monkeypatch.setattr(runner_mod.subprocess, "Popen", popen_then_stop)
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("res", runner.run()))
    t.start()
    t.join(30)
    assert not t.is_alive(), "the step outlived a stop that came while it was being spawned"
    assert box["res"].status == "terminated"
