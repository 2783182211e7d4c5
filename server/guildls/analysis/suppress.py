"""Suppression comments and severity overrides.

In a guild file::

    - train lrr=1  # guildls: disable=unknown-flag
    # guildls: disable=unknown-operation,unknown-flag
    - trian
    # guildls: disable-file=undefined-reference

A comment at the end of a line silences those codes for problems starting on that line;
on a line of its own, for the next line that is not a comment; ``disable-file`` for the
whole document. ``all`` stands for every code. Severity overrides (a setting, or
``[tool.guildls]`` in pyproject.toml) change a code's severity or turn it ``off``.
"""

from __future__ import annotations

import re
from typing import Dict, List, Mapping, Set

from ..model import Guildfile, Problem

_COMMENT = re.compile(r"(?:^|\s)#\s*guildls:\s*(disable|disable-file)\s*=\s*([\w, -]+)")


def _codes(text: str) -> Set[str]:
    return {c.strip() for c in text.split(",") if c.strip()}


def suppressions(lines: List[str]):
    """(codes by line, codes for the whole file)."""
    by_line: Dict[int, Set[str]] = {}
    whole: Set[str] = set()
    pending: Set[str] = set()  # from comment lines, for the next line that is not one
    for i, text in enumerate(lines):
        stripped = text.strip()
        comment_line = stripped.startswith("#")
        m = _COMMENT.search(text) if "guildls:" in text else None
        if m is not None:
            codes = _codes(m.group(2))
            if m.group(1) == "disable-file":
                whole |= codes
            elif comment_line:
                pending |= codes
            else:
                by_line.setdefault(i, set()).update(codes)
        if stripped and not comment_line and pending:
            by_line.setdefault(i, set()).update(pending)
            pending = set()
    return by_line, whole


def apply(gf: Guildfile, problems: List[Problem], severity: Mapping[str, str] = None) -> List[Problem]:
    """Problems without the suppressed ones, with severities overridden."""
    if "guildls:" in gf.text:  # (the marker never spans lines)
        by_line, whole = suppressions(gf.lines)

        def silenced(p: Problem) -> bool:
            codes = by_line.get(p.range.start_line, ())
            return p.code in whole or "all" in whole or p.code in codes or "all" in codes

        problems = [p for p in problems if not silenced(p)]
    if severity:
        out = []
        for p in problems:
            s = severity.get(p.code)
            if s == "off":
                continue
            if s and s != p.severity:
                p = Problem(p.code, s, p.message, p.range, p.data)
            out.append(p)
        problems = out
    return problems
