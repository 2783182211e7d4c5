"""Long completion lists share their edit range and resolve data through the list's
``itemDefaults`` (LSP 3.17) for clients that take them, as VS Code does; the text each item
writes is the same as for a client that does not."""

import sys

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

OPS = "".join(f"op{i}:\n  description: Operation {i}\n  exec: echo {i}\n" for i in range(30))
TEXT = OPS + "wf:\n  steps:\n    - op\n    -\n"
STEP = TEXT.split("\n").index("    - op")


def _caps(defaults):
    return types.ClientCapabilities(text_document=types.TextDocumentClientCapabilities(
        completion=types.CompletionClientCapabilities(
            completion_item=types.ClientCompletionItemOptions(snippet_support=True, label_details_support=True),
            completion_list=types.CompletionListCapabilities(item_defaults=defaults))))


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "guildls", "serve"]))
async def vscode(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=_caps(["commitCharacters", "editRange", "insertTextFormat", "insertTextMode", "data"]),
        client_info=types.ClientInfo(name="Visual Studio Code")))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "guildls", "serve"]))
async def plain(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=_caps(None)))
    yield
    await lsp_client.shutdown_session()


async def _complete(client, uri, line, col):
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="guild", version=1, text=TEXT)))
    return await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line, col)))


def _writes(res):
    """label -> (range, text) each item writes, with the list's defaults applied as a client
    that declares them does (vscode-languageclient's protocol converter)."""
    out = {}
    dr = res.item_defaults.edit_range if res.item_defaults is not None else None
    for it in res.items:
        if it.text_edit is not None:
            r, text = it.text_edit.range, it.text_edit.new_text
        else:
            r, text = dr, it.text_edit_text if it.text_edit_text is not None else it.label
        out[it.label] = ((r.start.line, r.start.character, r.end.line, r.end.character), text)
    return out


async def test_step_targets_share_their_range_and_data(vscode: LanguageClient, plain: LanguageClient):
    uri = "file:///tmp/guildls-test/defaults/guild.yml"
    shared = await _complete(vscode, uri, STEP, 8)
    own = await _complete(plain, uri, STEP, 8)
    assert shared.item_defaults is not None and own.item_defaults is None
    ops = [it for it in shared.items if it.kind == types.CompletionItemKind.Function]
    assert len(ops) == 30 and all(it.text_edit is None and it.data is None for it in ops)
    assert shared.item_defaults.data == {"kind": "operation", "model": "", "uri": uri}
    # every item writes the same text over the same range for both clients
    assert _writes(shared) == _writes(own)
    assert _writes(shared)["op7"] == ((STEP, 6, STEP, 8), "op7")
    # resolve: the client sends the item back with the list's data (as VS Code does)
    item = next(it for it in ops if it.label == "op7")
    item.data = shared.item_defaults.data
    resolved = await vscode.completion_item_resolve_async(item)
    doc = resolved.documentation
    assert "Operation 7" in (doc.value if hasattr(doc, "value") else doc)


async def test_text_other_than_the_label_stays_with_the_item(vscode: LanguageClient, plain: LanguageClient):
    # right after the trigger `-` the item writes " op7" (YAML needs the space)
    uri = "file:///tmp/guildls-test/defaults2/guild.yml"
    line = STEP + 1
    shared = await _complete(vscode, uri, line, 5)
    own = await _complete(plain, uri, line, 5)
    w = _writes(shared)
    assert w == _writes(own)
    assert w["op7"][1] == " op7"
    assert next(it for it in shared.items if it.label == "op7").text_edit_text == " op7"
