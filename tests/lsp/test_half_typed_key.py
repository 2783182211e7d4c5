"""A key typed without its colon yet gets the syntax error on its own line."""

from lsprotocol import types
from pytest_lsp import LanguageClient


async def test_half_typed_key_error_on_its_line(client: LanguageClient, diags_when):
    cases = {
        "file:///tmp/guildls-test/halfkey/a.yml": ("train:\n  main: t\n  flag\n  description: x\n", 2, 2, 6),
        "file:///tmp/guildls-test/halfkey/b.yml": ("train:\n  main: t\n  flag\n", 2, 2, 6),
        "file:///tmp/guildls-test/halfkey/c.yml": ("train:\n  mai\n  flags: {}\n", 1, 2, 5),
    }
    for uri, (text, *_r) in cases.items():
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="guild", version=1, text=text)))
    for uri, (_text, line, start, end) in cases.items():
        (d,) = await diags_when(client, uri, lambda d: len(d) > 0)
        assert d.code == "yaml-syntax"
        assert (d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character) == \
            (line, start, line, end), uri
