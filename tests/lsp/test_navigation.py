"""Definition, references, rename and document symbols through the real protocol."""

import sys

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

URI = "file:///tmp/guildls-test/navigation/guild.yml"

TEXT = """\
prep:
  flags:
    n: 1
train:
  flags:
    lr: 0.1
  requires:
    - operation: prep
wf:
  flags:
    x: 2
  steps:
    - prep n=${x}
    - run: train lr=1
      flags:
        lr: 2
"""


def open_doc(client: LanguageClient, text=TEXT, uri=URI):
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)))


def pos(line, character, uri=URI):
    return dict(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line, character))


def rng(sl, sc, el, ec):
    return types.Range(start=types.Position(sl, sc), end=types.Position(el, ec))


async def test_definition_of_step_operation_flag_and_reference(client: LanguageClient):
    open_doc(client)
    got = await client.text_document_definition_async(types.DefinitionParams(**pos(12, 7)))
    assert got == [types.Location(uri=URI, range=rng(0, 0, 0, 4))]
    got = await client.text_document_definition_async(types.DefinitionParams(**pos(7, 19)))
    assert got == [types.Location(uri=URI, range=rng(0, 0, 0, 4))]
    got = await client.text_document_definition_async(types.DefinitionParams(**pos(13, 18)))
    assert got == [types.Location(uri=URI, range=rng(5, 4, 5, 6))]
    got = await client.text_document_definition_async(types.DefinitionParams(**pos(15, 9)))
    assert got == [types.Location(uri=URI, range=rng(5, 4, 5, 6))]
    got = await client.text_document_definition_async(types.DefinitionParams(**pos(12, 15)))
    assert got == [types.Location(uri=URI, range=rng(10, 4, 10, 5))]
    assert await client.text_document_definition_async(types.DefinitionParams(**pos(10, 7))) is None


async def test_definition_of_extends_and_named_resource(client: LanguageClient):
    text = "- config: base\n  resources:\n    data: [d.csv]\n- model: m\n  extends: base\n" \
           "  operations:\n    t:\n      requires: [data]\n"
    open_doc(client, text)
    got = await client.text_document_definition_async(types.DefinitionParams(**pos(4, 12)))
    assert got == [types.Location(uri=URI, range=rng(0, 10, 0, 14))]


async def test_references(client: LanguageClient):
    open_doc(client)
    got = await client.text_document_references_async(types.ReferenceParams(
        context=types.ReferenceContext(include_declaration=True), **pos(0, 1)))
    assert [loc.range for loc in got] == [rng(0, 0, 0, 4), rng(7, 17, 7, 21), rng(12, 6, 12, 10)]
    got = await client.text_document_references_async(types.ReferenceParams(
        context=types.ReferenceContext(include_declaration=False), **pos(5, 5)))
    assert [loc.range for loc in got] == [rng(13, 17, 13, 19), rng(15, 8, 15, 10)]


async def test_rename_operation(client: LanguageClient):
    open_doc(client)
    prep = await client.text_document_prepare_rename_async(types.PrepareRenameParams(**pos(12, 8)))
    assert prep == types.PrepareRenamePlaceholder(range=rng(12, 6, 12, 10), placeholder="prep")
    edit = await client.text_document_rename_async(types.RenameParams(new_name="prepare", **pos(12, 8)))
    assert {u: list(e) for u, e in edit.changes.items()} == {URI: [
        types.TextEdit(range=rng(0, 0, 0, 4), new_text="prepare"),
        types.TextEdit(range=rng(7, 17, 7, 21), new_text="prepare"),
        types.TextEdit(range=rng(12, 6, 12, 10), new_text="prepare"),
    ]}


async def test_rename_flag_from_a_reference(client: LanguageClient):
    open_doc(client)
    edit = await client.text_document_rename_async(types.RenameParams(new_name="y", **pos(12, 15)))
    assert {u: list(e) for u, e in edit.changes.items()} == {URI: [
        types.TextEdit(range=rng(10, 4, 10, 5), new_text="y"),
        types.TextEdit(range=rng(12, 15, 12, 16), new_text="y"),
    ]}
    edit = await client.text_document_rename_async(types.RenameParams(new_name="rate", **pos(15, 9)))
    assert [e.range for e in edit.changes[URI]] == [rng(5, 4, 5, 6), rng(13, 17, 13, 19), rng(15, 8, 15, 10)]


async def test_rename_refuses_an_existing_name(client: LanguageClient):
    open_doc(client)
    with pytest.raises(JsonRpcException, match="an operation named 'train' already exists in this file"):
        await client.text_document_rename_async(types.RenameParams(new_name="train", **pos(0, 1)))
    assert await client.text_document_prepare_rename_async(types.PrepareRenameParams(**pos(10, 7))) is None


async def test_document_symbols(client: LanguageClient):
    open_doc(client)
    syms = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=URI)))
    assert [(s.name, s.kind, s.detail, [c.name for c in s.children]) for s in syms] == [
        ("prep", types.SymbolKind.Function, None, ["n"]),
        ("train", types.SymbolKind.Function, None, ["lr"]),
        ("wf", types.SymbolKind.Module, "workflow", ["x"]),
    ]
    wf = syms[2]
    assert wf.selection_range == rng(8, 0, 8, 2)
    assert wf.children[0].selection_range == rng(10, 4, 10, 5)
    assert wf.children[0].range == rng(10, 4, 10, 8)


async def test_document_symbols_full_format(client: LanguageClient):
    text = "- model: a\n  description: A\n  operations:\n    t:\n      flags: {x: 1}\n- config: c\n"
    open_doc(client, text)
    syms = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=URI)))
    assert [(s.name, s.kind, s.detail, s.selection_range) for s in syms] == [
        ("a", types.SymbolKind.Class, "model: A", rng(0, 9, 0, 10)),
        ("c", types.SymbolKind.Interface, "config", rng(5, 10, 5, 11)),
    ]
    t = syms[0].children[0]
    assert (t.name, t.range, [c.name for c in t.children]) == ("t", rng(3, 4, 5, 0), ["x"])


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "guildls", "serve"]),
)
async def nvim(lsp_client: LanguageClient):
    # like Neovim, accept the server's registrations (file watchers)
    lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)(lambda params: None)
    # Neovim 0.11 prefers UTF-8 positions, and pygls accepts that
    await lsp_client.initialize_session(types.InitializeParams(capabilities=client_capabilities("neovim@v0.11")))
    yield
    await lsp_client.shutdown_session()


async def test_positions_follow_the_negotiated_encoding(nvim: LanguageClient):
    text = "trâin:\n  flags:\n    lr: 1\nwf:\n  steps: ['🚀', trâin lr=2]\n"
    open_doc(nvim, text)
    # line 4: "  steps: ['🚀', " is 15 code points but 18 UTF-8 bytes; "trâin" is 6 bytes
    got = await nvim.text_document_definition_async(types.DefinitionParams(**pos(4, 20)))
    assert got == [types.Location(uri=URI, range=rng(0, 0, 0, 6))]
    got = await nvim.text_document_references_async(types.ReferenceParams(
        context=types.ReferenceContext(include_declaration=True), **pos(4, 27)))
    assert [loc.range for loc in got] == [rng(2, 4, 2, 6), rng(4, 25, 4, 27)]
