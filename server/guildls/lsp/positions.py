"""Position conversion at the LSP boundary.

The model counts columns in code points; the protocol counts in the encoding negotiated
with the client: UTF-16 code units by default, UTF-8 bytes for clients that ask for it
(Neovim 0.11). They differ only on lines with non-ASCII characters.
"""

from __future__ import annotations

import bisect
import itertools
from typing import Dict, List, Optional

from lsprotocol import types

from ..model import Range


class Columns:
    """Column conversion for one document in the negotiated position encoding."""

    def __init__(self, lines: List[str], encoding: str = "utf-16"):
        self.lines = lines
        self.encoding = str(encoding or "utf-16").lower()
        # per line that needs conversion: the client units before each of its characters
        # (a 30,000-character line with an emoji and 2,000 diagnostics on it cost a sum
        # over the line per position: 35 s)
        self._offsets: Dict[int, Optional[List[int]]] = {}

    def _units(self, ch: str) -> int:
        o = ord(ch)
        if self.encoding == "utf-8":
            return 1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4
        return 2 if o > 0xFFFF else 1

    def _plain(self, line: int) -> Optional[str]:
        """The line's text when it needs conversion, None when columns are the same."""
        if self.encoding == "utf-32" or not (0 <= line < len(self.lines)):
            return None
        text = self.lines[line]
        if text.isascii():
            return None
        if self.encoding != "utf-8" and all(ord(c) <= 0xFFFF for c in text):
            return None
        return text

    def _line_offsets(self, line: int) -> Optional[List[int]]:
        if line in self._offsets:
            return self._offsets[line]
        text = self._plain(line)
        offs = None if text is None else [0, *itertools.accumulate(map(self._units, text))]
        self._offsets[line] = offs
        return offs

    def to_client(self, line: int, col: int) -> int:
        offs = self._line_offsets(line)
        if offs is None:
            return col
        n = len(offs) - 1  # the line's length in characters
        if col <= n:
            return offs[max(col, 0)]
        return offs[n] + col - n

    def from_client(self, line: int, units: int) -> int:
        offs = self._line_offsets(line)
        if offs is None:
            return units
        # the first character that starts at or after `units` (inside a character: the next)
        return min(bisect.bisect_left(offs, units), len(offs) - 1)

    def position(self, line: int, col: int) -> types.Position:
        return types.Position(line=line, character=self.to_client(line, col))

    def range(self, r: Range) -> types.Range:
        return types.Range(start=self.position(r.start_line, r.start_col),
                           end=self.position(r.end_line, r.end_col))

    def fix(self, r: types.Range) -> types.Range:
        """A protocol range built with code-point columns, in client units."""
        return types.Range(start=self.position(r.start.line, r.start.character),
                           end=self.position(r.end.line, r.end.character))

    def model_range(self, r: types.Range) -> Range:
        """A client range in code-point columns."""
        return Range(r.start.line, self.from_client(r.start.line, r.start.character),
                     r.end.line, self.from_client(r.end.line, r.end.character))


def encoding_of(ls) -> str:
    """The position encoding negotiated with the client (utf-16 unless agreed otherwise)."""
    try:
        enc = ls.server_capabilities.position_encoding
    except Exception:
        enc = None
    return str(enc.value if hasattr(enc, "value") else enc or "utf-16")
