"""Semantic tokens where a TextMate grammar sees only a string: step run strings
(operation, flag names, values) and ``${refs}`` in values.

``tokens(gf)`` returns ``(line, col, length, type)`` tuples in document order, single-line
and non-overlapping, in code-point columns (the LSP layer converts and encodes them).
"""

from __future__ import annotations

import re
from typing import List, Tuple

from ..model.guildfile import Guildfile
from ..model.nodes import Range

TOKEN_TYPES = ["function", "parameter", "variable", "string", "number", "keyword"]
FUNCTION, PARAMETER, VARIABLE, STRING, NUMBER, KEYWORD = range(len(TOKEN_TYPES))
_NUMBER = re.compile(r"[-+]?(\d[\d_]*\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)")
_WORDS = {"true", "false", "yes", "no", "null", "on", "off"}

Token = Tuple[int, int, int, int]


def _one_line(r: Range) -> bool:
    return r is not None and r.start_line == r.end_line and r.end_col > r.start_col


def tokens(gf: Guildfile) -> List[Token]:
    out: List[Token] = []
    refs_by_line = {}
    for ref in gf.refs:
        if _one_line(ref.range) and ref.operation is not None and ref.operation.node.local:
            refs_by_line.setdefault(ref.range.start_line, []).append(ref.range)
    covered = set()  # (line, col) of refs placed inside step values
    seen_ops = set()
    for model in list(gf.models.values()) + list(gf.configs.values()):
        for op in model.operations.values():
            if id(op.node) in seen_ops or not op.node.local:
                continue
            seen_ops.add(id(op.node))
            for st in op.steps or ():
                if not st.node.local:
                    continue
                if _one_line(st.opspec_range):
                    r = st.opspec_range
                    out.append((r.start_line, r.start_col, r.end_col - r.start_col, FUNCTION))
                for a in st.assigns:
                    if _one_line(a.name_range):
                        r = a.name_range
                        out.append((r.start_line, r.start_col, r.end_col - r.start_col, PARAMETER))
                    v = a.value_range
                    if not _one_line(v):
                        continue
                    inner = [x for x in refs_by_line.get(v.start_line, ())
                             if v.start_col <= x.start_col and x.end_col <= v.end_col]
                    if inner:
                        continue  # the refs are tokens of their own
                    text = a.text if isinstance(a.text, str) else ""
                    kind = NUMBER if _NUMBER.fullmatch(text) else KEYWORD if text.lower() in _WORDS else STRING
                    out.append((v.start_line, v.start_col, v.end_col - v.start_col, kind))
    for line, rs in refs_by_line.items():
        for r in rs:
            if (line, r.start_col) not in covered:
                covered.add((line, r.start_col))
                out.append((line, r.start_col, r.end_col - r.start_col, VARIABLE))
    out.sort()
    # drop anything overlapping the token before it (a guard: clients reject overlaps)
    kept: List[Token] = []
    for t in out:
        if kept and kept[-1][0] == t[0] and t[1] < kept[-1][1] + kept[-1][2]:
            continue
        kept.append(t)
    return kept
