"""Process lifetimes: a step's whole tree ends with its executor, SIGTERM-ignoring
children too; waits for conditions (pid files, processes gone), never fixed sleeps."""

import os
import signal
import subprocess
import sys

import pytest

from guildls.runs import iter_runs
from procutil import alive  # tests/, on sys.path (tests/conftest.py)
from trialmarks import wait_until

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process groups and signals are POSIX")

# a step that starts a grandchild ignoring SIGTERM, records both pids, then waits
STEP = r"""
import os, signal, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open(os.path.join(os.environ["PROJECT_DIR"], "pids.tmp"), "w") as f:
    f.write(f"{os.getpid()} {child.pid}")
os.replace(os.path.join(os.environ["PROJECT_DIR"], "pids.tmp"), os.path.join(os.environ["PROJECT_DIR"], "pids"))
time.sleep(600)
"""




def _wait_recorded(home, step):
    """Until the executor has recorded the step's run as running (its LOCK names the step's
    pid). The executor writes the LOCK after it has told the watchdog the step's group; the
    step writes its pid file as soon as it starts, so a kill right after the pid file can land
    before the watchdog knows the group (a busy machine widened that window to a failure)."""
    def recorded():
        for lock in (home / "runs").glob("*/.guild/LOCK"):
            try:
                if lock.read_text().strip() == str(step):
                    return True
            except OSError:
                pass
        return False

    wait_until(recorded, 120, "the step's run to be recorded running")


def _project(tmp_path):
    (tmp_path / "step.py").write_text(STEP)
    (tmp_path / "guild.yml").write_text("op:\n  main: step\nwf:\n  steps: [op]\n")
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, GUILD_HOME=str(home))
    return env, home


def test_kill_9_of_guildls_run_ends_the_step_tree(tmp_path):
    env, home = _project(tmp_path)
    p = subprocess.Popen([sys.executable, "-m", "guildls", "run", "-C", str(tmp_path), "wf", "--yes"],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pids_file = tmp_path / "pids"
    wait_until(pids_file.exists, 120, "the step to start")
    step, grandchild = map(int, pids_file.read_text().split())
    assert alive(step) and alive(grandchild)
    _wait_recorded(home, step)
    p.kill()
    p.wait()
    wait_until(lambda: not alive(step) and not alive(grandchild), 120, "the step tree to end")
    # the records read as Guild reads a run whose process is gone without an exit status
    runs = iter_runs(str(home / "runs"))
    assert {r.status for r in runs} == {"error"}, [(r.id, r.status) for r in runs]


def _server_run(tmp_path):
    """A server running workflow 'wf' of the project: (client, step pid, grandchild pid)."""
    from .rawclient import RawClient

    env, home = _project(tmp_path)
    c = RawClient(cwd=str(tmp_path), env={"GUILD_HOME": str(home)})
    c.initialize(root_uri=tmp_path.as_uri())
    uri = (tmp_path / "guild.yml").as_uri()
    c.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                       "text": (tmp_path / "guild.yml").read_text()}})
    r = c.request("workspace/executeCommand", {"command": "guildls.runWorkflow",
                                               "arguments": [{"uri": uri, "operation": "wf"}]})
    assert "result" in r, r
    pids_file = tmp_path / "pids"
    wait_until(pids_file.exists, 120, "the step to start")
    step, grandchild = map(int, pids_file.read_text().split())
    _wait_recorded(home, step)
    return c, step, grandchild


def test_server_shutdown_mid_run_ends_the_step_tree(tmp_path):
    c, step, grandchild = _server_run(tmp_path)
    c.close()  # shutdown + exit: the server ends the tree before it goes
    assert c.proc.returncode is not None
    wait_until(lambda: not alive(step) and not alive(grandchild), 120, "the step tree to end")


def test_kill_9_of_the_server_ends_the_step_tree(tmp_path):
    c, step, grandchild = _server_run(tmp_path)
    c.proc.send_signal(signal.SIGKILL)
    c.proc.wait()
    wait_until(lambda: not alive(step) and not alive(grandchild), 120, "the step tree to end")
