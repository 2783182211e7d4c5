"""executor/procs.py: a step's process group on POSIX and on Windows.

The Windows branch cannot run here (Linux): its calls are checked with the platform
switched (procs.WINDOWS) and the Windows-only pieces replaced: Popen's creationflags are
asserted, not used; PeekNamedPipe is emulated with FIONREAD on a real pipe; Ctrl-Break is
the value 1, which on Linux is SIGHUP, so a real step still stops; taskkill is absent here,
so kill() falls back to Popen.kill(). What this does not show: the real console control
event, taskkill's tree walk, PeekNamedPipe itself (see README: not run on Windows)."""
from __future__ import annotations

import array
import fcntl
import os
import select
import subprocess
import sys
import termios
import threading
import time

import pytest

from guildls.executor import procs
from guildls.executor.runner import Runner


class FakeProc:
    def __init__(self, alive=True):
        self.pid = 4242
        self.alive = alive
        self.signals = []
        self.killed = False

    def poll(self):
        return None if self.alive else 0

    def send_signal(self, sig):
        self.signals.append(sig)

    def kill(self):
        self.killed = True


@pytest.fixture
def windows(monkeypatch):
    monkeypatch.setattr(procs, "WINDOWS", True)


def test_popen_group_per_platform(monkeypatch):
    assert procs.popen_group() == {"start_new_session": True}
    monkeypatch.setattr(procs, "WINDOWS", True)
    assert procs.popen_group() == {"creationflags": 0x00000200}  # CREATE_NEW_PROCESS_GROUP


def test_windows_terminate_sends_ctrl_break_to_a_live_step(windows):
    p = FakeProc()
    procs.terminate(p)
    assert p.signals == [1]  # CTRL_BREAK_EVENT
    gone = FakeProc(alive=False)
    procs.terminate(gone)
    assert gone.signals == []


def test_windows_terminate_ignores_a_step_without_console(windows):
    class NoConsole(FakeProc):
        def send_signal(self, sig):
            raise OSError(87, "The parameter is incorrect")
    procs.terminate(NoConsole())  # no exception


def test_windows_kill_takes_the_tree(windows, monkeypatch):
    calls = []
    monkeypatch.setattr(procs.subprocess, "run", lambda cmd, **kw: calls.append((cmd, kw)))
    p = FakeProc()
    procs.kill(p)
    assert [c for c, _ in calls] == [["taskkill", "/T", "/F", "/PID", "4242"]]
    assert calls[0][1]["creationflags"] == 0x08000000  # CREATE_NO_WINDOW: no console flash
    assert not p.killed
    calls.clear()
    procs.kill(FakeProc(alive=False))  # exited: its pid may belong to someone else now
    assert calls == []


def test_windows_kill_without_taskkill_kills_the_step(windows, monkeypatch):
    def missing(cmd, **kw):
        raise FileNotFoundError(2, "not found", cmd[0])
    monkeypatch.setattr(procs.subprocess, "run", missing)
    p = FakeProc()
    procs.kill(p)
    assert p.killed


def _fionread_peek(fd):
    """PeekNamedPipe's answer, emulated on a POSIX pipe: (open, bytes available)."""
    n = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, n)
    if n[0]:
        return True, n[0]
    ready, _, _ = select.select([fd], [], [], 0)
    return (not ready), 0  # readable with nothing buffered: the writer closed it


def test_windows_readable_polls_the_pipe(windows, monkeypatch):
    monkeypatch.setattr(procs, "_peek", _fionread_peek)
    r, w = os.pipe()
    try:
        t0 = time.monotonic()
        assert procs.readable(r, 0.2) is False
        assert time.monotonic() - t0 >= 0.15
        os.write(w, b"x\r\n")
        assert procs.readable(r, 5) is True
        assert os.read(r, 10) == b"x\r\n"
        threading.Timer(0.1, os.write, (w, b"late")).start()
        assert procs.readable(r, 10) is True  # waits for data that comes later
        os.read(r, 10)
        os.close(w)
        w = None
        assert procs.readable(r, 5) is True and os.read(r, 10) == b""  # EOF
    finally:
        os.close(r)
        if w is not None:
            os.close(w)


def test_posix_readable(monkeypatch):
    r, w = os.pipe()
    try:
        assert procs.readable(r, 0) is False
        os.write(w, b"x")
        assert procs.readable(r, 1) is True
    finally:
        os.close(r)
        os.close(w)


@pytest.fixture
def windows_here(monkeypatch):
    """The runner on procs' Windows branch, with the Windows-only calls emulated."""
    monkeypatch.setattr(procs, "WINDOWS", True)
    monkeypatch.setattr(procs, "popen_group", lambda: {"start_new_session": True})
    monkeypatch.setattr(procs, "_peek", _fionread_peek)


def test_runner_windows_branch_crlf_output_and_scalars(project, windows_here):
    project.write("train.py", """
        import sys
        for i in range(3):
            sys.stdout.write(f"step: {i}\\r\\nloss: {1.0 / (i + 1):.2f}\\r\\n")
        sys.stdout.flush()
        """)
    project.guildfile("train:\n  main: train\n  output-scalars:\n    loss: 'loss: (\\value)$'\n    step: 'step: (\\step)'\n")
    chunks = []
    runner = Runner(project.plan("train"), project.root, project.path, env=project.env(),
                    on_output=lambda rid, s, t: chunks.append(t))
    res = runner.run()
    assert res.exit_code == 0, "".join(chunks)
    assert "loss: 1.00\r\n" in "".join(chunks)  # the step's bytes, CRLF kept
    guild = os.path.join(project.runs_root, res.runs[0].id, ".guild")
    with open(os.path.join(guild, "output"), "rb") as f:
        assert f.read().count(b"\r\n") == 6
    with open(os.path.join(guild, "output.index"), "rb") as f:
        assert len(f.read()) == 6 * 9  # one index entry per line
    events = [n for n in os.listdir(guild) if n.startswith("events.out.tfevents")]
    assert len(events) == 1, "no scalars from CRLF lines"
    with open(os.path.join(guild, events[0]), "rb") as f:
        assert f.read().count(b"loss") == 3  # one event per CRLF line, `$` matched before CR


def test_crlf_line_matches_anchored_scalar_pattern():
    from guildls.runs.scalars import match_line, patterns_for
    assert match_line("loss: 0.50\r", patterns_for({"loss": "loss: (\\value)$"})) == {"loss": 0.5}


def test_runner_windows_branch_stop_reaches_the_step(project, windows_here):
    """stop(): Ctrl-Break (here SIGHUP, the same number) ends the step, recorded terminated."""
    project.write("long.py", """
        import time
        print("started", flush=True)
        time.sleep(60)
        """)
    project.guildfile("long: {main: long}\n")
    started = threading.Event()
    runner = Runner(project.plan("long"), project.root, project.path, env=project.env(), kill_grace=2.0,
                    on_output=lambda rid, s, t: "started" in t and started.set())
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("res", runner.run()))
    # stop() starts a kill timer (SIGKILL / taskkill after kill_grace) on a thread of its own:
    # it must end inside this test, on the emulated Windows branch, not after it. It runs once
    # the runner has reaped the step: on Linux Popen.poll() answers None while another thread
    # waits on the process, and the timer would then try taskkill on a step already gone.
    timer_done = threading.Event()
    real_kill_later = runner._kill_later

    def kill_later(ps):
        try:
            t.join(30)
            real_kill_later(ps)
        finally:
            timer_done.set()
    runner._kill_later = kill_later
    t.start()
    assert started.wait(30)
    runner.stop()
    t.join(30)
    assert not t.is_alive()
    assert box["res"].status == "terminated" and box["res"].exit_code == -15
    assert timer_done.wait(30), "the runner's kill timer did not end"


# -- links on Windows without the symlink privilege (guildls/fslinks.py) ------------------

@pytest.fixture
def no_symlink_privilege(monkeypatch):
    from guildls import fslinks
    made = []

    def refuse(*a, **kw):
        raise OSError(22, "A required privilege is not held by the client", None, 1314)

    def junction(src, link):  # _winapi.CreateJunction: an absolute directory link
        assert os.path.isabs(src) and os.path.isdir(src)
        made.append((src, link))
        os.mkdir(link)
        open(os.path.join(link, ".junction"), "w").write(src)

    monkeypatch.setattr(fslinks, "WINDOWS", True)
    monkeypatch.setattr(fslinks.os, "symlink", refuse)
    monkeypatch.setattr(fslinks, "_junction", junction)
    return made


def test_windows_links_fall_back_to_junction_and_hard_link(no_symlink_privilege, tmp_path):
    from guildls import fslinks
    (tmp_path / "runs" / "step1").mkdir(parents=True)
    (tmp_path / "runs" / "wf").mkdir()
    (tmp_path / "data.csv").write_text("1,2\r\n")
    assert fslinks.symlink(os.path.join("..", "step1"), str(tmp_path / "runs" / "wf" / "train")) == "junction"
    assert no_symlink_privilege == [(str(tmp_path / "runs" / "step1"), str(tmp_path / "runs" / "wf" / "train"))]
    assert fslinks.symlink(os.path.join("..", "..", "data.csv"), str(tmp_path / "runs" / "wf" / "d.csv")) == "hardlink"
    assert (tmp_path / "runs" / "wf" / "d.csv").read_bytes() == b"1,2\r\n"


def test_posix_symlink_errors_are_not_hidden(monkeypatch, tmp_path):
    from guildls import fslinks
    (tmp_path / "x").write_text("")
    with pytest.raises(FileExistsError):
        fslinks.symlink("x", str(tmp_path / "x"))


def test_runner_windows_branch_workflow_without_symlink_privilege(project, windows_here, no_symlink_privilege):
    """A workflow whose step links and `target-type: link` dependency cannot be symlinks."""
    project.write("data.csv", "1,2\n")
    project.write("a.py", "print(open('data.csv').read().strip())\n")
    project.write("b.py", "print('b')\n")
    project.guildfile("""
a:
  main: a
  requires:
    - file: data.csv
      target-type: link
b: {main: b}
wf:
  steps: [a, b]
""")
    res = project.run("wf")
    assert res.exit_code == 0, res.stdout
    assert "1,2" in res.stdout
    wf = next(r for r in res.runs if r.name == "wf")
    assert sorted(os.listdir(os.path.join(project.runs_root, wf.id))) == [".guild", "a", "b"]
    assert len(no_symlink_privilege) == 2  # the two step links
