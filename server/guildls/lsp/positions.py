"""Position conversion at the LSP boundary.

The model counts columns in code points; LSP counts UTF-16 code units. They differ only
on lines with characters outside the Basic Multilingual Plane (emoji and the like).
"""

from __future__ import annotations

from typing import List

from lsprotocol import types

from ..model import Range


def to_utf16(lines: List[str], line: int, col: int) -> int:
    if 0 <= line < len(lines):
        text = lines[line]
        prefix = text[:col]
        if any(ord(c) > 0xFFFF for c in prefix):
            return col + sum(1 for c in prefix if ord(c) > 0xFFFF)
    return col


def from_utf16(lines: List[str], line: int, character: int) -> int:
    """Code-point column of an LSP character offset."""
    if 0 <= line < len(lines):
        text = lines[line]
        if any(ord(c) > 0xFFFF for c in text):
            units = 0
            for i, c in enumerate(text):
                if units >= character:
                    return i
                units += 2 if ord(c) > 0xFFFF else 1
            return len(text)
    return character


def to_lsp_position(lines: List[str], line: int, col: int) -> types.Position:
    return types.Position(line=line, character=to_utf16(lines, line, col))


def to_lsp_range(r: Range, lines: List[str]) -> types.Range:
    return types.Range(
        start=to_lsp_position(lines, r.start_line, r.start_col),
        end=to_lsp_position(lines, r.end_line, r.end_col),
    )
