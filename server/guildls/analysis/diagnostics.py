"""All diagnostics of a document: load problems, schema checks, semantic checks.

``diagnose(gf)`` is a pure function: a loaded Guildfile in, a sorted list of
:class:`~guildls.model.Problem` out. Each problem has a stable ``code``.
"""

from __future__ import annotations

from typing import List, Mapping, Optional

from ..model import Guildfile, Problem
from ..model.collector import collector_paused
from . import schema_check, semantics, suggest, suppress

SEVERITY_ORDER = {"error": 0, "warning": 1, "information": 2, "hint": 3}


def diagnose(gf: Guildfile, severity: Optional[Mapping[str, str]] = None) -> List[Problem]:
    """All problems of the document, without those its ``# guildls: disable`` comments
    silence, with ``severity`` overrides applied (code -> severity or "off")."""
    # no cyclic collection until the end: besides the many short-lived objects the checks
    # make, a model just loaded (with the collector off) is all young, and the first
    # collection would rescan it, in the middle of the checks
    with collector_paused():
        return suppress.apply(gf, _diagnose(gf), severity)


def _diagnose(gf: Guildfile) -> List[Problem]:
    out: List[Problem] = list(gf.problems)
    syntax = [p for p in out if p.code == "yaml-syntax"]
    if syntax:
        # The model of a document that does not parse is rebuilt from what is left after
        # the bad lines; anything else said about it would be a guess (a value cut in two
        # reads as null, an operation seems missing). Guild, too, reports only this.
        return syntax
    if gf.root is not None:
        suggest.release()  # a whole did-you-mean budget for this document
        try:
            out.extend(schema_check.check(gf))
            out.extend(semantics.check(gf))
        finally:
            suggest.release()
    seen = set()
    uniq = []
    for p in out:
        k = (p.code, p.range, p.message)
        if k in seen:
            continue
        seen.add(k)
        uniq.append(p)
    uniq.sort(key=lambda p: (p.range.start_line, p.range.start_col, SEVERITY_ORDER.get(p.severity, 9)))
    return uniq


def limit(problems: List[Problem], cap: Optional[int]) -> List[Problem]:
    """At most ``cap`` diagnostics: when ``problems`` (sorted as ``diagnose`` sorts them) are
    more, ``cap - 1`` of them, errors kept first, then one information problem, where the
    first left-out problem is, saying how many more there are. An editor shows no more than
    this anyway (VS Code: 1,000 per file, and past that its own note replaces ours), and a
    hostile document with 60,000 problems spent longer encoding and sending them than
    checking. ``cap`` None or below 1: everything."""
    if cap is None or cap < 1 or len(problems) <= cap:
        return problems
    room = cap - 1
    errors = [p for p in problems if p.severity == "error"]
    if len(errors) >= room:
        chosen = errors[:room]
    else:
        room -= len(errors)
        chosen = [p for p in problems if p.severity == "error" or (room := room - 1) >= 0]
    kept = {id(p) for p in chosen}
    first_out = next(p for p in problems if id(p) not in kept)
    more = len(problems) - len(chosen)
    return chosen + [Problem(
        "too-many-problems", "information",
        f"{more:,} more problems are not shown: at most {cap:,} diagnostics are sent to the "
        f"editor (setting maxDiagnostics); `guildls check` lists them all", first_out.range)]
