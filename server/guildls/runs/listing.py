"""Finding runs in a runs directory."""

from __future__ import annotations

import os
from typing import Iterable, Optional

from .layout import Run


def iter_runs(root: str, ids: Optional[Iterable[str]] = None) -> list[Run]:
    names: Iterable[str]
    if ids is not None:
        names = ids
    else:
        try:
            names = os.listdir(root)
        except OSError:
            return []
    runs = []
    for name in names:
        p = os.path.join(root, name)
        if os.path.isfile(os.path.join(p, ".guild", "opref")):
            runs.append(Run(name, p))
    return runs


def find_run(root: str, prefix: str) -> Optional[Run]:
    matches = [r for r in iter_runs(root) if r.id.startswith(prefix)]
    return matches[0] if len(matches) == 1 else None
