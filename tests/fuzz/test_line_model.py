"""The server's copy of a document stays the editor's under incremental edits, whatever
characters the text holds (LSP breaks lines on CR, LF and CRLF only)."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types

from guildls.lsp.document import Document as GuildTextDocument, lsp_lines

from . import lspedits


def test_lsp_lines_split_only_on_cr_lf_crlf():
    text = "a\u2028b\u2029c\x85d\x0ce\x0bf\x1cg\r\nh\ri\nj"
    assert lsp_lines(text) == ("a\u2028b\u2029c\x85d\x0ce\x0bf\x1cg\r\n", "h\r", "i\n", "j")
    assert lsp_lines("") == ()
    assert lsp_lines("x\n") == ("x\n",)


def test_lsp_lines_fast_path_matches_the_regular_expression():
    # plain text takes str.splitlines (only when none of its extra breaks is in the text)
    from guildls.lsp import document

    rng = random.Random(11)
    pieces = ["a", "b: 1", "\n", "\r\n", "\r", "", "é", "\U0001F600", "\t", " "]
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 30)))
        assert lsp_lines(text) == tuple(document._LINE.findall(text)), repr(text)
        odd = text + rng.choice(document._OTHER_BREAKS) + text
        assert lsp_lines(odd) == tuple(document._LINE.findall(odd)), repr(odd)


def _apply(doc, rng, new):
    doc.apply_change(types.TextDocumentContentChangePartial(range=rng, text=new))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab :-\n") + [c for c in lspedits.ODD if len(c) == 1]), max_size=40), st.randoms())
def test_incremental_edits_keep_the_editors_text(initial, rnd):
    doc = GuildTextDocument("file:///tmp/x/guild.yml", source=initial, version=1)
    text = initial
    for _ in range(12):
        rng, new, text = lspedits.random_edit(rnd, text)
        _apply(doc, rng, new)
        assert doc.source == text


def test_edit_after_a_line_separator_lands_on_the_right_line():
    # the case: U+2028 on line 0; an edit on LSP line 1 must change line 1
    doc = GuildTextDocument("file:///tmp/x/guild.yml", source="a: 'x\u2028y'\nb: 1\n", version=1)
    _apply(doc, types.Range(start=types.Position(1, 3), end=types.Position(1, 4)), "2")
    assert doc.source == "a: 'x\u2028y'\nb: 2\n"


def test_seeded_long_sequence():
    rnd = random.Random(9)
    text = "op:\n  description: a\u2028b\x85c\r\n  main: x\r  flags: {lr: 0.1}\n"
    doc = GuildTextDocument("file:///tmp/x/guild.yml", source=text, version=1)
    for _ in range(2000):
        rng, new, text = lspedits.random_edit(rnd, text)
        _apply(doc, rng, new)
    assert doc.source == text
