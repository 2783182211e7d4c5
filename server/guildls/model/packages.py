"""Where Guild finds another package's guild file (`extends: pkg/model`, `- include: pkg`).

Guild looks in every directory of its interpreter's ``sys.path`` for
``<pkg with - as _ and . as />/guild.yml`` (guild/guildfile.py, ``_find_pkg_guildfile``)
and, for includes, also ``gpkg/<pkg>/guild.yml``. Guild's own tests put the project and
its siblings on ``sys.path``; a language server sees the same packages by searching:

1. the project directory and its parent (sibling projects of the workspace), then
2. the ``sys.path`` of the configured interpreter, asked once and cached. The front ends
   (CLI, language server) say how to ask (:func:`set_interpreter_paths`); by default it
   is the interpreter running guildls.

Pure file lookups; no process is started here.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Callable, Iterable, List, Optional

_lock = threading.Lock()
_provider: Optional[Callable[[], Iterable[str]]] = None
_cached: Optional[List[str]] = None


def set_interpreter_paths(provider: Optional[Callable[[], Iterable[str]]]) -> None:
    """``provider()`` gives the configured interpreter's ``sys.path``; it is called at most
    once, the first time a package is looked up (None: the running interpreter)."""
    global _provider, _cached
    with _lock:
        _provider, _cached = provider, None


def interpreter_paths() -> List[str]:
    global _cached
    with _lock:
        if _cached is None:
            try:
                paths = list(_provider()) if _provider is not None else list(sys.path)
            except Exception:  # an interpreter that cannot answer: search the rest
                paths = []
            _cached = [os.path.abspath(p) for p in paths if isinstance(p, str) and p and os.path.isdir(p)]
        return _cached


def search_dirs(project_dir: Optional[str]) -> List[str]:
    dirs: List[str] = []
    if project_dir:
        project_dir = os.path.abspath(project_dir)
        dirs += [project_dir, os.path.dirname(project_dir)]
    dirs += interpreter_paths()
    return list(dict.fromkeys(dirs))


def _find(rel: str, project_dir: Optional[str]) -> Optional[str]:
    for d in search_dirs(project_dir):
        p = os.path.join(d, rel, "guild.yml")
        if os.path.isfile(p):
            return os.path.normpath(p)
    return None


def package_guildfile(pkg: str, project_dir: Optional[str]) -> Optional[str]:
    """The guild file of package ``pkg`` (as ``extends: pkg/model`` finds it), or None."""
    if not pkg or os.path.isabs(pkg):
        return None
    return _find(pkg.replace("-", "_").replace(".", os.sep), project_dir)


def include_guildfile(name: str, project_dir: Optional[str]) -> Optional[str]:
    """The guild file ``- include: name`` finds on the path (after the local file), or None."""
    if not name or os.path.isabs(name):
        return None
    for inc in (name, "gpkg." + name):
        found = _find(inc.replace(".", os.sep), project_dir)
        if found:
            return found
    return None
