"""Writing run records: a new run directory and the attributes Guild writes for every run."""

from __future__ import annotations

import getpass
import os
import platform
import re
import socket
import sys
from typing import Optional

from .layout import Run, new_run_id

_PLATFORM: Optional[dict] = None
_HOST_USER: Optional[tuple] = None


def create_run(runs_root: str, run_id: Optional[str] = None) -> Run:
    run_id = run_id or new_run_id()
    run = Run(run_id, os.path.join(runs_root, run_id))
    os.makedirs(run.path, exist_ok=True)
    run.init_skel()
    return run


def init_common_attrs(run: Run, *, opref: str, flags: dict, user_flags: dict, cmd: list,
                      label: Optional[str], tags: list, env: Optional[dict], run_params: dict,
                      extra: Optional[dict] = None) -> None:
    run.write_opref(opref)
    run.write_attr("flags", flags)
    run.write_attr("user_flags", user_flags)
    run.write_attr("cmd", cmd)
    if label:
        run.write_attr("label", label)
    if tags:
        run.write_attr("tags", list(tags))
    if env is not None:  # Guild writes it when the run starts
        run.write_attr("env", env)
    run.write_attr("run_params", run_params)
    global _PLATFORM, _HOST_USER
    if _HOST_USER is None:
        try:
            user = getpass.getuser()
        except Exception:
            user = ""
        _HOST_USER = (socket.gethostname(), user)
    if _PLATFORM is None:
        u = platform.uname()
        _PLATFORM = {
            "architecture": " ".join(platform.architecture()),
            "cpus": os.cpu_count(),
            "python_version": sys.version,
            "uname": f"{u.system} {u.node} {u.release} {u.version} {u.machine}",
        }
    run.write_attr("host", _HOST_USER[0])
    run.write_attr("user", _HOST_USER[1])
    run.write_attr("platform", _PLATFORM)
    for name, val in (extra or {}).items():
        run.write_attr(name, val)


def vcs_commit(project_dir: str) -> Optional[str]:
    """Guild's `vcs_commit` attribute: `git:<last commit touching the dir>`, `*` if the work
    tree has changes; None outside git (the runner asks once per run)."""
    import shutil
    import subprocess

    git = shutil.which("git")
    if git is None:
        return None
    cur = os.path.abspath(project_dir)
    head = None
    while True:
        if os.path.exists(os.path.join(cur, ".git", "HEAD")):
            head = os.path.join(cur, ".git", "HEAD")
            break
        parent = os.path.dirname(cur)
        if parent == cur:
            return None
        cur = parent
    try:
        out = subprocess.run([git, "log", "-1", "."], cwd=project_dir, capture_output=True,
                             timeout=10)
        m = re.match(r"commit ([a-f0-9]+)", out.stdout.decode("ascii", "replace"))
        if out.returncode != 0 or not m:
            return None
        st = subprocess.run([git, "status", "-s"], cwd=project_dir, capture_output=True,
                            timeout=10)
        dirty = bool(st.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None
    return f"git:{m.group(1)}" + ("*" if dirty else "")


def trash_dir(runs_root: str) -> str:
    """Where `guild runs rm` puts deleted runs: `<guild home>/trash/runs` (Guild 0.9.0's
    var.runs_dir(deleted=True)), the guild home being the runs directory's parent."""
    return os.path.join(os.path.dirname(os.path.abspath(runs_root)), "trash", "runs")


def delete_run(runs_root: str, run_id: str) -> str:
    """Move a run to Guild's trash (as `guild runs rm`, restorable with `guild runs restore`);
    an older trashed run of the same id is kept under a new name, as Guild does. A running
    run is stopped first (SIGTERM to the pid in its LOCK), as Guild does. Returns the new path."""
    import shutil
    import signal
    import tempfile

    from .status import pid_alive

    src = os.path.join(os.path.abspath(runs_root), run_id)
    run = Run(run_id, src)
    pid = run.lock_pid()
    if pid is not None and run.get("exit_status") is None and pid_alive(pid) and pid != os.getpid():
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    dest_dir = trash_dir(runs_root)
    os.makedirs(dest_dir, exist_ok=True)
    dest = os.path.join(dest_dir, run_id)
    if os.path.lexists(dest):
        backup = tempfile.mktemp(prefix=f"{run_id}_", dir=dest_dir)
        shutil.move(dest, backup)
    shutil.move(src, dest)
    return dest


def set_label(run: Run, label: Optional[str]) -> None:
    """`guild label RUN LABEL` / `guild label --clear RUN`."""
    if label:
        run.write_attr("label", label)
    else:
        run.del_attr("label")
