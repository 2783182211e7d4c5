"""Open documents: pygls's TextDocument with the cost of an edit independent of the file's size.

pygls rebuilds the whole text line by line in Python for every incremental change and
splits it into lines again on every ``lines`` access (together ~30 ms per keystroke at
100,000 lines). Here the lines are kept and updated by slicing, and the text is rebuilt
by slicing too; the results are the same as pygls's (same line splitting, same handling
of positions past the end of a line or of the document; anything unusual, such as a
reversed range, goes to pygls's own code).
"""

from __future__ import annotations

import errno
import os
import re
from typing import Optional, Sequence

from lsprotocol import types
from pygls.workspace.text_document import TextDocument

from ..model.files import FileRefused, is_guild_file_name, read_text

# LSP breaks lines on CR, LF and CRLF only; str.splitlines (pygls's) also breaks on
# U+2028, U+2029, U+0085, form feed, vertical tab, ... and an edit addressed by the
# client's line numbers would then land on the wrong line for the rest of the session.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
# what str.splitlines breaks on besides CR, LF and CRLF
_OTHER_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def lsp_lines(text: str) -> Sequence[str]:
    """``text`` split after each CR, LF or CRLF (line ends kept), as LSP counts lines."""
    if not any(c in text for c in _OTHER_BREAKS):
        return tuple(text.splitlines(True))  # the same lines, 2-3 times faster
    return tuple(_LINE.findall(text))


class Document(TextDocument):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lines: Optional[tuple] = None
        self._lines_of: Optional[str] = None

    @property
    def lines(self) -> Sequence[str]:
        src = self.source
        if self._lines_of is not src:
            self._lines = lsp_lines(src)
            self._lines_of = src
        return self._lines

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        lines = self.lines
        rng = self._position_codec.range_from_client_units(lines, change.range)
        sl, sc, el, ec = rng.start.line, rng.start.character, rng.end.line, rng.end.character
        n = len(lines)
        if not (0 <= sl < n and sl <= el and sc >= 0 and ec >= 0 and (el > sl or ec >= sc)):
            return super()._apply_incremental_change(change)
        text = change.text
        first = lines[sl]
        prefix = first[:sc]
        if el < n:
            suffix = lines[el][ec:]
            rest = lines[el + 1:]
        else:  # the range ends past the last line: pygls drops everything after the start
            suffix = ""
            rest = ()
        middle = prefix + text + suffix
        src = self.source
        start = sum(map(len, lines[:sl]))
        end = len(src) if el >= n else sum(map(len, lines[sl:el]), start) + len(lines[el])
        new_src = src[:start] + middle + src[end:]
        self._source = new_src
        parts = lsp_lines(middle)
        # the new lines are the old ones around the edited ones, unless a seam joins lines:
        # the edited text not ending in a line break, or CR + LF across a seam
        if (rest and (not parts or not parts[-1].endswith(("\n", "\r")) or
                      (parts[-1].endswith("\r") and rest[0].startswith("\n")))) or (
                sl > 0 and middle.startswith("\n") and lines[sl - 1].endswith("\r")):
            return  # `lines` splits the new text again
        self._lines = lines[:sl] + tuple(parts) + rest
        self._lines_of = new_src

    @property
    def source(self) -> str:
        if self._source is None and self.path is not None:
            # not open in the editor: read it now with limits (regular files, size cap),
            # never cache it, and only guild files, so that no answer carries another
            # file's content
            if not is_guild_file_name(os.path.basename(self.path)):
                raise FileRefused(errno.EINVAL, "not a guild file (and not open in the editor)", self.path)
            return read_text(self.path)
        return self._source or ""


def use_in(workspace) -> None:
    """Make `workspace` (pygls's) open its documents as :class:`Document`."""
    workspace._create_text_document = lambda *a, **kw: create_document(workspace, *a, **kw)


def create_document(workspace, doc_uri: str, source: Optional[str] = None, version: Optional[int] = None,
                    language_id: Optional[str] = None) -> Document:
    return Document(doc_uri, source=source, version=version, language_id=language_id,
                    sync_kind=workspace._sync_kind, position_codec=workspace._position_codec)
