"""Editor-specific completion commands go only to the editor that has them."""

import sys

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

TEXT = "train:\n  main: t\n  flags: {lr: 0.1}\nwf:\n  steps:\n    - train \n"
URI = "file:///tmp/guildls-test/cmds/guild.yml"


def _fixture(name):
    @pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "guildls", "serve"]))
    async def fixture(lsp_client: LanguageClient):
        await lsp_client.initialize_session(types.InitializeParams(
            capabilities=types.ClientCapabilities(), client_info=types.ClientInfo(name=name)))
        yield
        await lsp_client.shutdown_session()
    return fixture


vscode = _fixture("Visual Studio Code")
neovim = _fixture("Neovim")


async def _items(client):
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=URI, language_id="yaml", version=1, text=TEXT)))
    res = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=URI), position=types.Position(5, 12)))
    return {i.label: i for i in res.items}


async def test_vscode_gets_trigger_suggest_after_name_eq(vscode: LanguageClient):
    items = await _items(vscode)
    assert items["lr"].text_edit.new_text == "lr="
    assert items["lr"].command.command == "editor.action.triggerSuggest"


async def test_other_clients_get_no_editor_commands(neovim: LanguageClient):
    items = await _items(neovim)
    assert items["lr"].text_edit.new_text == "lr="
    assert items["lr"].command is None
