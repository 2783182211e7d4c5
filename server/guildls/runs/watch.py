"""Noticing that the runs of a runs directory changed, cheaply (no scan of every run).

A poll costs one stat of each runs directory plus one stat of `.guild/attrs` (and a look at the LOCK pid) of
each run still in progress: a run starting or being deleted changes the runs directory's entries (its
mtime); a run finishing writes `exit_status` (an atomic rename in `.guild/attrs`, which changes
that directory's mtime). This sees runs started by real Guild in a terminal as well as ours.
"""

from __future__ import annotations

import os
from typing import Iterable

from .reader import RUN_ID
from .status import pid_alive


def _mtime(path: str):
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _finished(run_dir: str) -> bool:
    return os.path.exists(os.path.join(run_dir, ".guild", "attrs", "exit_status"))


def _died(run_dir: str) -> bool:
    try:
        with open(os.path.join(run_dir, ".guild", "LOCK")) as f:
            pid = int(f.read(10))
    except (OSError, ValueError):
        return False  # not started yet (no LOCK): nothing to say
    return not pid_alive(pid)


class RunsWatcher:
    def __init__(self):
        self._dirs: dict = {}  # runs dir -> (mtime, set of ids)
        self._live: dict = {}  # run dir -> attrs mtime, for runs not finished

    def _scan(self, root: str) -> set:
        try:
            return {n for n in os.listdir(root) if RUN_ID.match(n)}
        except OSError:
            return set()

    def poll(self, roots: Iterable[str]) -> list[tuple[str, list[str]]]:
        """[(runs dir, changed run ids)] since the last poll; the first poll of a directory
        only records its state."""
        changes = []
        roots = [os.path.abspath(r) for r in roots]
        for root in list(self._dirs):
            if root not in roots:
                del self._dirs[root]
                for d in [d for d in self._live if os.path.dirname(d) == root]:
                    del self._live[d]
        for root in roots:
            changed: set = set()
            m = _mtime(root)
            known = self._dirs.get(root)
            if known is None:
                ids = self._scan(root)
                self._dirs[root] = (m, ids)
                for rid in ids:
                    d = os.path.join(root, rid)
                    if not _finished(d):
                        self._live[d] = _mtime(os.path.join(d, ".guild", "attrs"))
                continue
            if m != known[0]:
                ids = self._scan(root)
                added, removed = ids - known[1], known[1] - ids
                changed |= added | removed
                self._dirs[root] = (m, ids)
                for rid in added:
                    d = os.path.join(root, rid)
                    if not _finished(d):
                        self._live[d] = _mtime(os.path.join(d, ".guild", "attrs"))
                for rid in removed:
                    self._live.pop(os.path.join(root, rid), None)
            for d, am in list(self._live.items()):
                if os.path.dirname(d) != root:
                    continue
                now = _mtime(os.path.join(d, ".guild", "attrs"))
                if now == am and _died(d):  # killed: no exit status, its process is gone
                    now = None
                if now != am:
                    self._live[d] = now
                    changed.add(os.path.basename(d))
                    if now is None or _finished(d):
                        del self._live[d]
            if changed:
                changes.append((root, sorted(changed)))
        return changes
