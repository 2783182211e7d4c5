"""Diagnostics after a character YAML reads as a line break and LSP does not (NEL U+0085,
LINE SEPARATOR U+2028, PARAGRAPH SEPARATOR U+2029), and in files with CR-only or CRLF line
ends: through the real protocol, each one lands on the LSP line and character of its text."""

from lsprotocol import types
from pytest_lsp import LanguageClient

URI = "file:///tmp/guildls-test-breaks/{}/guild.yml"
TYPO = "trian"  # an unknown step: `unknown-operation` on exactly this word


def _open(client, uri, text):
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)))


def _lsp_position(text, offset):
    """The LSP (line, character) of `offset`: lines end at CR, LF or CRLF only (no astral
    characters in these texts, so characters are UTF-16 units)."""
    line = col = 0
    i = 0
    while i < offset:
        c = text[i]
        if c == "\r" and i + 1 < len(text) and text[i + 1] == "\n":
            i += 1
        if c in "\r\n":
            line, col = line + 1, 0
        else:
            col += 1
        i += 1
    return line, col


CASES = {
    f"{name}-{where}": text.replace("@", ch)
    for name, ch in (("NEL", "\x85"), ("LS", "\u2028"), ("PS", "\u2029"))
    for where, text in (
        # on an earlier line, in a quoted string
        ("line-before", 'train:\n  main: t\nwf:\n  description: "first@second"\n  steps: [trian]\n'),
        # on the same line, before the typo (the column after it restarts for YAML)
        ("same-line", 'train:\n  main: t\nwf: {description: "a@b@c", steps: [trian]}\n'),
        # several, in a block scalar and a single-quoted string
        ("block", "train:\n  main: t\nwf:\n  description: |\n    one@    two@    three\n  label: 'x@y'\n"
                  "  steps:\n    - trian\n"),
    )
}
CASES["CR-only"] = 'train:\r  main: t\rwf:\r  description: "x"\r  steps: [trian]\r'
CASES["CRLF"] = 'train:\r\n  main: t\r\nwf:\r\n  description: "x\u2028y"\r\n  steps: [trian]\r\n'
CASES["mixed"] = 'train:\r  main: t\nwf:\r\n  description: "\x85\u2029"\r  steps: [trian]\n'


async def test_diagnostics_after_yaml_only_line_breaks(client: LanguageClient, diags_when):
    for name, text in CASES.items():  # all open at once: one server
        _open(client, URI.format(name), text)
    for name, text in CASES.items():
        uri = URI.format(name)
        diags = await diags_when(client, uri, lambda ds: any(d.code == "unknown-operation" for d in ds))
        d = next(d for d in diags if d.code == "unknown-operation")
        line, char = _lsp_position(text, text.index(TYPO))
        want = types.Range(start=types.Position(line, char), end=types.Position(line, char + len(TYPO)))
        assert d.range == want, name
        assert not [d for d in diags if d.code == "yaml-syntax"], name


async def test_syntax_error_after_a_line_separator(client: LanguageClient, diags_when):
    text = 'train:\n  description: "a\u2028b\u2028c"\n  main: t\n  flags: x: 1\n'
    uri = URI.format("syntax")
    _open(client, uri, text)
    diags = await diags_when(client, uri, lambda ds: any(d.code == "yaml-syntax" for d in ds))
    d = next(d for d in diags if d.code == "yaml-syntax")
    # PyYAML's mark (two lines further on, by its count) moved onto LSP lines: the
    # second colon of `flags: x: 1`
    assert d.message == "mapping values are not allowed here"
    assert d.range == types.Range(start=types.Position(3, 10), end=types.Position(3, 11)), d
