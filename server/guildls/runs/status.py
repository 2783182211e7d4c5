"""Run status as Guild 0.9.0 derives it: exit_status 0 -> completed, > 0 -> error,
< 0 -> terminated; no exit_status -> running while the pid in `.guild/LOCK` is alive, else error."""

from __future__ import annotations

import os


def status_for_exit(exit_status: int) -> str:
    if exit_status == 0:
        return "completed"
    if exit_status < 0:
        return "terminated"
    return "error"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie has exited: its parent died and nobody reaped it (a container whose
    # init does not reap, after the executor was killed)
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True
