"""`guildls run` via cli_run(argv)."""

import json
import os

from guildls.executor.cli import cli_run


def _project(project):
    project.write("ok.py", "msg = 'x'\nprint('ok', msg)\n")
    project.write("boom.py", "import sys\nsys.exit(4)\n")
    project.guildfile("""
ok: {main: ok, flags: {msg: hi}}
boom: {main: boom}
wf:
  flags: {m: hello}
  steps:
    - ok msg=${m}
    - boom
    - ok
""")


def test_plan_json(project, capsys, monkeypatch):
    _project(project)
    monkeypatch.setenv("GUILD_HOME", project.guild_home)
    assert cli_run(["-C", project.root, "wf", "m=yo", "--plan", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in data] == ["ok", "boom", "ok"]
    assert data[0]["flags"] == {"msg": "yo"} and data[0]["operation"] == "ok"
    assert {"name", "operation", "flags", "options"} <= set(data[0])
    assert project.run_ids() == []


def test_run_exit_code_and_summary(project, capsys, monkeypatch):
    _project(project)
    monkeypatch.setenv("GUILD_HOME", project.guild_home)
    assert cli_run(["-C", project.root, "wf", "--yes"]) == 4
    cap = capsys.readouterr()
    assert "ok hello" in cap.out
    assert "INFO: [guild] running boom: boom" in cap.err
    assert "wf error" in cap.err and "boom" in cap.err
    assert len(project.run_ids()) == 3


def test_errors_are_one_line_not_tracebacks(project, capsys, monkeypatch):
    _project(project)
    monkeypatch.setenv("GUILD_HOME", project.guild_home)
    assert cli_run(["-C", project.root, "wf", "x=5", "--yes"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("guild: unsupported flag 'x'") and "Traceback" not in err
    assert cli_run(["-C", project.root, "nope", "--yes"]) == 1
    assert "operation 'nope' is not defined for this project" in capsys.readouterr().err
    assert cli_run(["-C", os.path.join(project.root, "missing"), "wf"]) == 1
    assert cli_run([]) == 2


def test_refuses_without_yes_when_not_a_tty(project, capsys, monkeypatch):
    _project(project)
    monkeypatch.setenv("GUILD_HOME", project.guild_home)
    monkeypatch.setattr("sys.stdin", open(os.devnull))
    assert cli_run(["-C", project.root, "ok"]) == 1
    assert "--yes" in capsys.readouterr().err
    assert project.run_ids() == []


def test_interrupt_stops_the_run(project):
    import signal
    import subprocess
    import sys

    # the step would sleep 10 minutes: the run ending at all shows the interrupt stopped it
    # (no clock in the assertion: a loaded CI machine may take many seconds to wind down)
    project.write("long.py", "import time\nprint('started', flush=True)\ntime.sleep(600)\n")
    project.guildfile("long: {main: long}\nwf:\n  steps: [long]\n")
    env = project.env()
    # started as a shell starts a background job: SIGINT ignored (Python then installs no
    # KeyboardInterrupt handler of its own); the interrupt must stop the run all the same
    p = subprocess.Popen([sys.executable, "-m", "guildls", "run", "-C", project.root, "wf", "--yes"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert p.stdout.readline().strip() == "started"
    p.send_signal(signal.SIGINT)
    try:
        _, err = p.communicate(timeout=300)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, err
    assert "Traceback" not in err and "terminated" in err
    import yaml

    statuses = []
    for rid in project.run_ids():
        with open(os.path.join(project.runs_root, rid, ".guild", "attrs", "exit_status")) as f:
            statuses.append(yaml.safe_load(f))
    assert statuses == [-15, -15]


def test_missing_guild_home_is_an_error(project, capsys, monkeypatch):
    _project(project)
    missing = os.path.join(project.guild_home, "nope")
    monkeypatch.setenv("GUILD_HOME", missing)
    assert cli_run(["-C", project.root, "ok", "--yes"]) == 1
    assert f"guild: directory '{missing}' does not exist" in capsys.readouterr().err
    assert not os.path.exists(missing)
