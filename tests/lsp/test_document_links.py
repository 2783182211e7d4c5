"""Document links through the real protocol: main module, file/config sources, includes."""

from lsprotocol import types
from pytest_lsp import LanguageClient

TEXT = """\
- include: sub
- model: m
  resources:
    data:
      - file: data.csv
  operations:
    train:
      main: pkg.train --x 1
      requires:
        - file: data.csv
        - config: cfg.yml
        - file: missing.csv
        - file: "${d}.csv"
"""


async def test_links_to_files_that_exist(client: LanguageClient, tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "train.py").write_text("x = 1\n")
    (tmp_path / "data.csv").write_text("x\n")
    (tmp_path / "cfg.yml").write_text("a: 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "guild.yml").write_text("- model: s\n")
    uri = (tmp_path / "guild.yml").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="guild", version=1, text=TEXT)))
    res = await client.text_document_document_link_async(types.DocumentLinkParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    got = [(ln.range.start.line, ln.range.start.character, ln.range.end.character, ln.target) for ln in res]
    assert got == [
        (0, 11, 14, (tmp_path / "sub" / "guild.yml").as_uri()),
        (4, 14, 22, (tmp_path / "data.csv").as_uri()),
        (7, 12, 21, (tmp_path / "pkg" / "train.py").as_uri()),
        (9, 16, 24, (tmp_path / "data.csv").as_uri()),
        (10, 18, 25, (tmp_path / "cfg.yml").as_uri()),
    ]  # not missing.csv, not a ${ref}
