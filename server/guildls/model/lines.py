"""Lines as the editor counts them, and YAML's line numbers mapped onto them.

LSP (and every editor) breaks lines on CR, LF and CRLF only. YAML (PyYAML and libyaml
alike) also breaks them on NEL (U+0085), LINE SEPARATOR (U+2028) and PARAGRAPH
SEPARATOR (U+2029): after such a character its marks count one line more than the
editor and restart the column. The model keeps the editor's lines (:func:`split_lines`)
and a :class:`YamlLines` maps a YAML mark onto them.
"""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

_LSP_BREAK = re.compile(r"\r\n?|\n")
_YAML_BREAK = re.compile(r"\r\n?|[\n\x85\u2028\u2029]")
YAML_ONLY_BREAKS = ("\x85", "\u2028", "\u2029")


def split_lines(text: str) -> List[str]:
    """``text`` split on CR, LF and CRLF (line ends dropped), as an editor counts lines."""
    if "\r" not in text:
        return text.split("\n")
    return _LSP_BREAK.split(text)


def line_starts(text: str) -> List[int]:
    """The offset in ``text`` where each line (as :func:`split_lines` gives them) starts."""
    return [0] + [m.end() for m in _LSP_BREAK.finditer(text)]


class YamlLines:
    """YAML's lines of one text, each placed on the editor's line that holds it."""

    def __init__(self, text: str):
        parts = _YAML_BREAK.split(text)
        self.lines: List[str] = parts  # YAML's lines (what its marks index)
        self._line: List[int] = []  # YAML line -> editor line
        self._col: List[int] = []  # YAML line -> column of its start on that editor line
        line = col = 0
        for m, part in zip(_YAML_BREAK.finditer(text), parts):
            self._line.append(line)
            self._col.append(col)
            if m.group() in YAML_ONLY_BREAKS:
                col += len(part) + 1
            else:
                line += 1
                col = 0
        self._line.append(line)
        self._col.append(col)

    @staticmethod
    def needed(text: str) -> Optional["YamlLines"]:
        """The mapping for ``text``, or None when YAML counts lines as the editor does."""
        for ch in YAML_ONLY_BREAKS:
            if ch in text:
                return YamlLines(text)
        return None

    def position(self, line: int, col: int) -> Tuple[int, int]:
        """The editor's (line, column) of YAML's (line, column)."""
        if line < 0:
            return line, col
        if line >= len(self._line):  # past the end (an error mark at the end of input)
            return self._line[-1] + line - len(self._line) + 1, col
        return self._line[line], self._col[line] + col
