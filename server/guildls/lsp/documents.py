"""The server's copy of the editor's documents.

pygls splits a document into lines with ``str.splitlines``, which also breaks on
U+2028, U+2029, U+0085, form feed, vertical tab and a few more; LSP counts only CR, LF
and CRLF. An incremental edit addressed by the client's line numbers then lands on the
wrong line, and the copy diverges from the editor for the rest of the session. Here
lines follow LSP, and a document that is not open is read from disk with the limits of
:mod:`guildls.model.files` (regular files only, size cap).
"""

from __future__ import annotations

import errno
import os
import re
from typing import Optional, Sequence

from pygls.workspace import TextDocument, Workspace

from ..model.files import FileRefused, is_guild_file_name, read_text

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def lsp_lines(text: str) -> Sequence[str]:
    """``text`` split after each CR, LF or CRLF (line ends kept), as LSP counts lines."""
    return tuple(_LINE.findall(text))


class GuildTextDocument(TextDocument):
    _lines_of: Optional[str] = None
    _lines: Sequence[str] = ()

    @property
    def lines(self) -> Sequence[str]:
        source = self.source
        if self._lines_of is not source:
            self._lines = lsp_lines(source)
            self._lines_of = source
        return self._lines

    @property
    def source(self) -> str:
        if self._source is None and self.path is not None:
            # not open in the editor: read it now, never cache it (the file may change);
            # only guild files, so that no answer can carry another file's content
            if not is_guild_file_name(os.path.basename(self.path)):
                raise FileRefused(errno.EINVAL, "not a guild file (and not open in the editor)", self.path)
            return read_text(self.path)
        return self._source or ""


class GuildWorkspace(Workspace):
    def _create_text_document(self, doc_uri, source=None, version=None, language_id=None):
        return GuildTextDocument(doc_uri, source=source, version=version, language_id=language_id,
                                 sync_kind=self._sync_kind, position_codec=self._position_codec)


def adopt(workspace: Workspace) -> None:
    """Make pygls's workspace (created during ``initialize``) create our documents."""
    if not isinstance(workspace, GuildWorkspace):
        workspace.__class__ = GuildWorkspace
