"""Map offsets inside a scalar's value back to source positions."""

from __future__ import annotations

from typing import List

from .nodes import Node, Range

_DQ_ESC_LEN = {"x": 4, "u": 6, "U": 10}


def _raw_map(node: Node, lines: List[str]):
    """For a single-line scalar: list mapping value index -> source column (plus end)."""
    if node.sl != node.el or node.sl >= len(lines):
        return None
    raw = lines[node.sl][node.sc:node.ec]
    style = node.style
    if style in (None, ""):
        return list(range(node.sc, node.sc + len(raw) + 1))
    if style == "'":
        cols = []
        i = 1
        end = len(raw) - 1
        while i < end:
            cols.append(node.sc + i)
            if raw[i] == "'" and i + 1 < end and raw[i + 1] == "'":
                i += 2
            else:
                i += 1
        cols.append(node.sc + end)
        return cols
    if style == '"':
        cols = []
        i = 1
        end = len(raw) - 1
        while i < end:
            cols.append(node.sc + i)
            if raw[i] == "\\" and i + 1 < end:
                i += _DQ_ESC_LEN.get(raw[i + 1], 2)
            else:
                i += 1
        cols.append(node.sc + end)
        return cols
    return None


def sub_range(node: Node, lines: List[str], start: int, end: int) -> Range:
    """Source range of ``value[start:end]`` of a string scalar (whole node if unknown)."""
    cols = _raw_map(node, lines)
    if cols is None or end >= len(cols) + 1:
        return node.range
    if start >= len(cols):
        start = len(cols) - 1
    if end >= len(cols):
        end = len(cols) - 1
    return Range(node.sl, cols[start], node.sl, cols[end])


def value_offset(node: Node, lines: List[str], line: int, col: int):
    """Offset in the scalar's value for a source position, or None."""
    cols = _raw_map(node, lines)
    if cols is None or line != node.sl:
        return None
    for i, c in enumerate(cols):
        if c >= col:
            return i
    return len(cols) - 1
