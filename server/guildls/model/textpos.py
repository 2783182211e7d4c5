"""Map offsets inside a scalar's value back to source positions."""

from __future__ import annotations

from typing import List, Optional

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


def _aligned(node: Node, lines: List[str], value=None):
    """For multi-line scalars (block ``|``/``>``, folded plain or quoted strings): the
    source (line, col) of every character of the value, found by walking the value and
    the source text together (indentation, indicators and folded line breaks are skipped;
    an escape sequence stands for one character). None when they cannot be aligned."""
    value = node.value if value is None else value
    if not isinstance(value, str) or node.el >= len(lines):
        return None
    pos = []
    line, col = node.sl, node.sc
    text = lines[line]
    quoted = node.style == '"'
    for ch in value:
        while True:
            if line > node.el or (line == node.el and col >= node.ec):
                return None
            if col >= len(text):  # end of a source line: the line break
                if ch in "\n ":
                    pos.append((line, col))
                    line, col = line + 1, 0
                    text = lines[line] if line < len(lines) else ""
                    break
                line, col = line + 1, 0
                text = lines[line] if line < len(lines) else ""
                continue
            c = text[col]
            if quoted and c == "\\" and col + 1 < len(text):
                pos.append((line, col))
                col += _DQ_ESC_LEN.get(text[col + 1], 2)
                break
            if c == ch:
                pos.append((line, col))
                col += 1
                break
            col += 1
    pos.append((line, col))
    return pos


def text_at(lines: List[str], r: Range) -> Optional[str]:
    """The source text of a one-line range (None for a multi-line or out-of-document one)."""
    if r.start_line != r.end_line or not (0 <= r.start_line < len(lines)):
        return None
    return lines[r.start_line][r.start_col:r.end_col]


def sub_range(node: Node, lines: List[str], start: int, end: int, value=None) -> Range:
    """Source range of ``value[start:end]`` of a string scalar (whole node if unknown).
    ``value`` is the text the offsets refer to, when not the node's value (a scalar
    before ``{{ params }}`` substitution)."""
    sl = node.sl
    if sl == node.el and node.style in (None, "") and sl < len(lines):
        # a one-line plain scalar: value offset i is column sc + i (what _raw_map's list
        # says, without making it)
        sc = node.sc
        n = len(lines[sl][sc:node.ec]) + 1
        if end >= n + 1:
            return node.range
        return Range(sl, sc + min(start, n - 1), sl, sc + min(end, n - 1))
    cols = _raw_map(node, lines)
    if cols is None:
        if node.sl != node.el or node.style in ("|", ">"):
            pos = _aligned(node, lines, value)
            if pos is not None and 0 <= start <= end < len(pos):
                (sl, sc), (el, ec) = pos[start], pos[end]
                if end > start:  # end just after the last character of the span
                    pl, pc = pos[end - 1]
                    el, ec = pl, pc + 1
                return Range(sl, sc, el, ec)
        return node.range
    if end >= len(cols) + 1:
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
