"""The configured Python interpreter, asked once for its ``sys.path`` (where Guild, run by
that interpreter, finds packages for `extends: pkg/model` and `- include: pkg`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import List, Optional

from ..model import packages

_SCRIPT = "import json, sys; print(json.dumps(sys.path))"


def sys_path_of(python: str, timeout: float = 30) -> List[str]:
    """``sys.path`` of ``python`` (empty when it cannot be asked)."""
    try:
        r = subprocess.run([python, "-c", _SCRIPT], capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        paths = json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 and r.stdout.strip() else []
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return []
    return [p for p in paths if isinstance(p, str)]


def use_configured_interpreter(env: Optional[dict] = None) -> None:
    """Package lookups use the interpreter operations run with ($GUILDLS_PYTHON, as the
    runner does); it is asked on the first lookup only. Without it: the running one."""
    env = os.environ if env is None else env
    exe = env.get("GUILDLS_PYTHON")
    if exe and os.path.realpath(exe) != os.path.realpath(sys.executable):
        packages.set_interpreter_paths(lambda: sys_path_of(exe))
    else:
        packages.set_interpreter_paths(None)
