"""Symbolic links that also work on Windows without the privilege to create them.

Guild's run layout links: a workflow run's step links (`<run>/<step>` -> `../<step id>`)
and `target-type: link` dependencies. POSIX (and Windows with Developer Mode or admin
rights): a relative symlink, as Guild makes. Windows otherwise (os.symlink fails with
WinError 1314): a directory becomes a junction (absolute target: junctions have no
relative form), a file a hard link, else a copy.
"""
from __future__ import annotations

import os
import shutil

WINDOWS = os.name == "nt"


def symlink(target: str, link: str) -> str:
    """Link LINK to TARGET (relative to LINK's folder, or absolute); what was made:
    'symlink', 'junction', 'hardlink' or 'copy'."""
    try:
        os.symlink(target, link, target_is_directory=os.path.isdir(_absolute(target, link)))
        return "symlink"
    except OSError:
        if not WINDOWS:
            raise
    src = _absolute(target, link)
    if os.path.isdir(src):
        _junction(src, link)
        return "junction"
    try:
        os.link(src, link)
        return "hardlink"
    except OSError:
        shutil.copy2(src, link)
        return "copy"


def _absolute(target: str, link: str) -> str:
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(link)), target))


def _junction(src: str, link: str) -> None:  # pragma: no cover - Windows only
    import _winapi

    _winapi.CreateJunction(src, link)
