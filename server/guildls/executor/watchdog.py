"""A step never outlives a dead executor unnoticed.

Steps run in process groups of their own (so that stop can end a step's whole tree):
when the executor (``guildls run`` or the language server) dies without stopping them
— ``kill -9``, a crash — nothing would end them. One small watchdog process per
executor holds the read end of a pipe; the executor tells it which step groups are
running. When the pipe reaches end of file (the executor exited, however it exited)
the watchdog ends every group still listed: SIGTERM, then SIGKILL after a grace
period (children that ignore SIGTERM too). Their runs then read as Guild reads a run
whose process is gone without an exit status: ``error``.

POSIX only; the watchdog is a stdlib-only ``python -S -I`` process (no site, no
workspace on ``sys.path``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Optional

GRACE = 3.0

_CODE = r"""
import os, signal, sys, time
groups = set()
grace = float(sys.argv[1])
for line in sys.stdin:
    line = line.strip()
    if line[:1] == "+":
        groups.add(int(line[1:]))
    elif line[:1] == "-":
        groups.discard(int(line[1:]))
def alive(g):
    try:
        os.killpg(g, 0)
        return True
    except OSError:
        return False
for g in list(groups):
    try:
        os.killpg(g, signal.SIGTERM)
    except OSError:
        pass
deadline = time.monotonic() + grace
while time.monotonic() < deadline and any(alive(g) for g in groups):
    time.sleep(0.05)
for g in groups:
    try:
        os.killpg(g, signal.SIGKILL)
    except OSError:
        pass
"""

_lock = threading.Lock()
_proc: Optional[subprocess.Popen] = None


def _watchdog() -> Optional[subprocess.Popen]:
    global _proc
    if os.name != "posix":
        return None
    if _proc is None or _proc.poll() is not None:
        try:
            _proc = subprocess.Popen(
                [sys.executable, "-S", "-I", "-c", _CODE, str(GRACE)], stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                cwd="/", close_fds=True)
        except OSError:
            _proc = None
    return _proc


def _tell(line: str) -> None:
    with _lock:
        p = _watchdog()
        if p is None:
            return
        try:
            p.stdin.write((line + "\n").encode())
            p.stdin.flush()
        except (OSError, ValueError):
            pass


def watch(pgid: int) -> None:
    """End process group ``pgid`` if this process dies before :func:`forget`."""
    _tell(f"+{pgid}")


def forget(pgid: int) -> None:
    _tell(f"-{pgid}")
