"""A step's child process and its children, on POSIX and on Windows.

POSIX: the step starts a session of its own (its process group); stopping sends SIGTERM
to the whole group, killing sends SIGKILL to it. Pipes are polled with select().

Windows (no process groups or signals in the POSIX sense, select() only on sockets):
- the step starts with CREATE_NEW_PROCESS_GROUP, in the console it inherits (the server's,
  hidden under VS Code; the terminal's under `guildls run`), so no window pops up and a
  console control event can reach the group;
- stopping sends CTRL_BREAK_EVENT to that group (Python raises KeyboardInterrupt in the
  step, as on Ctrl-C; the process exits 0xC000013A when it does not handle it);
- killing runs `taskkill /T /F /PID <pid>`: the step and every process it started, forced
  (while the step is alive: once it exited its pid may be reused); Popen.kill() when
  taskkill is not there;
- pipes are polled with PeekNamedPipe (bytes available, or the writer closed it).
Output bytes are recorded as the step wrote them (CRLF included); output scalars match
lines with trailing whitespace, CR included, stripped (runs/scalars.py, as Guild).
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
import time

WINDOWS = os.name == "nt"
CREATE_NEW_PROCESS_GROUP = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x00000200)
CREATE_NO_WINDOW = getattr(subprocess, "CREATE_NO_WINDOW", 0x08000000)
CTRL_BREAK_EVENT = getattr(signal, "CTRL_BREAK_EVENT", 1)
POLL = 0.02  # seconds between PeekNamedPipe polls


def popen_group() -> dict:
    """Popen keyword arguments that start the child in a process group of its own."""
    if WINDOWS:
        return {"creationflags": CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def terminate(proc: subprocess.Popen) -> None:
    """Ask the step and its children to stop: SIGTERM to the group / Ctrl-Break."""
    if WINDOWS:
        if proc.poll() is None:
            try:
                proc.send_signal(CTRL_BREAK_EVENT)
            except (OSError, ValueError):  # gone, or no console shared with it
                pass
        return
    _killpg(proc, signal.SIGTERM)


def kill(proc: subprocess.Popen) -> None:
    """Kill the step and every process it started: SIGKILL to the group / taskkill /T /F."""
    if WINDOWS:
        if proc.poll() is not None:
            return
        try:
            subprocess.run(["taskkill", "/T", "/F", "/PID", str(proc.pid)], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30,
                           creationflags=CREATE_NO_WINDOW)
        except (OSError, subprocess.SubprocessError):
            try:
                proc.kill()
            except OSError:
                pass
        return
    _killpg(proc, getattr(signal, "SIGKILL", signal.SIGTERM))


def _killpg(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def readable(fd: int, timeout: float) -> bool:
    """True when a read of the pipe FD would not block (data, or end of file), waiting up
    to TIMEOUT seconds."""
    if not WINDOWS:
        ready, _, _ = select.select([fd], [], [], timeout)
        return bool(ready)
    deadline = time.monotonic() + timeout
    while True:
        ok, available = _peek(fd)
        if not ok or available:  # a closed pipe reads as EOF at once
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(POLL, left))


def _peek(fd: int) -> tuple:
    """(pipe still open, bytes available) of an anonymous pipe's read end (Windows)."""
    import ctypes
    import msvcrt
    from ctypes import wintypes

    handle = msvcrt.get_osfhandle(fd)
    available = wintypes.DWORD(0)
    ok = ctypes.windll.kernel32.PeekNamedPipe(wintypes.HANDLE(handle), None, 0, None,
                                              ctypes.byref(available), None)
    return bool(ok), available.value
