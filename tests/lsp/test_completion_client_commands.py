"""Editor-specific completion commands go only to the editor that has them."""

import os
import sys

from lsprotocol import types
from pytest_lsp import LanguageClient

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # --import-mode=importlib
from lsp_util import client_named  # noqa: E402

TEXT = "train:\n  main: t\n  flags: {lr: 0.1}\nwf:\n  steps:\n    - train \n"
URI = "file:///tmp/guildls-test/cmds/guild.yml"


vscode = client_named("Visual Studio Code")
neovim = client_named("Neovim")


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
