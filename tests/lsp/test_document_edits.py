"""The server's documents (lsp/document.py) end every edit sequence with the same text and
lines as pygls's own TextDocument given LSP's line model (CR, LF, CRLF only: pygls's
splitlines also breaks on U+2028, form feed, ...), including odd ranges and line breaks."""

import random

from lsprotocol import types
from pygls.workspace.text_document import TextDocument

from guildls.lsp.document import Document, lsp_lines


class _Reference(TextDocument):
    """pygls's edit algorithm, with the lines LSP counts."""

    @property
    def lines(self):
        return lsp_lines(self.source)

PIECES = ["a", "b: 1", "\n", "\r\n", "\r", "  ", "é", "\U0001F600", "\u2028", "\x0c", "", "- x\n", "\t"]


def _rand_text(rng, k):
    return "".join(rng.choice(PIECES) for _ in range(k))


def test_random_incremental_edits_match_pygls():
    rng = random.Random(3)
    kind = types.TextDocumentSyncKind.Incremental
    for _doc in range(400):
        text = _rand_text(rng, rng.randrange(0, 60))
        ours = Document("file:///x.yml", text, 1, sync_kind=kind)
        ref = _Reference("file:///x.yml", text, 1, sync_kind=kind)
        for _ in range(25):
            n = max(1, len(ref.lines))
            sl = rng.randrange(-1, n + 2)
            el = sl + rng.randrange(-1, 3)
            pos = lambda line: types.Position(line=max(0, line), character=rng.randrange(0, 8))  # noqa: E731
            change = types.TextDocumentContentChangePartial(
                range=types.Range(start=pos(sl), end=pos(el)), text=_rand_text(rng, rng.randrange(0, 4)))
            ours.apply_change(change)
            ref.apply_change(change)
            assert ours.source == ref.source
            assert tuple(ours.lines) == tuple(ref.lines)


def test_an_edit_in_a_large_document_touches_only_its_lines():
    kind = types.TextDocumentSyncKind.Incremental
    text = "".join(f"op{i}:\n  main: m\n" for i in range(20000))
    doc = Document("file:///x.yml", text, 1, sync_kind=kind)
    before = doc.lines
    doc.apply_change(types.TextDocumentContentChangePartial(
        range=types.Range(start=types.Position(line=101, character=8), end=types.Position(line=101, character=9)),
        text="main2"))
    after = doc.lines
    assert after[101] == "  main: main2\n" and len(after) == len(before)
    assert after[0] is before[0] and after[-1] is before[-1]  # the other lines are the same objects
    assert doc.source == text.replace("op50:\n  main: m\n", "op50:\n  main: main2\n")
