"""Completion in a large document right after a keystroke: answered from the last parsed
version (no re-parse on the keystroke), with the cursor context read from the new text."""

import asyncio
import os
import sys

from lsprotocol import types
from pytest_lsp import LanguageClient

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
from gen import guildfile  # noqa: E402

URI = "file:///tmp/guildls-test/typing/guild.yml"


async def test_completion_after_keystroke_uses_current_text(client: LanguageClient):
    text = guildfile(400)  # ~5,800 lines: above the large-document threshold
    assert text.count("\n") > 3000
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=URI, language_id="yaml", version=1, text=text)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    n = text.count("\n")
    # type a new workflow at the end, ending in "- op1 " (a step whose flags we want)
    typed = "wfnew:\n  steps:\n    - op1 "
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(n, 0), end=types.Position(n, 0)), text=typed)]))
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=URI), position=types.Position(n + 2, 10)))
    labels = [i.label for i in result.items]
    assert labels[:3] == ["lr", "epochs", "opt"] or set(labels) >= {"lr", "epochs", "opt"}, labels
    # after the typing pause the new version is parsed: the new workflow is a known operation
    await asyncio.sleep(0.5)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=3),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(n + 2, 10), end=types.Position(n + 2, 10)),
            text="\nouter:\n  steps:\n    - wfn")]))
    await asyncio.sleep(0.5)  # let the debounced check parse version 3
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=URI), position=types.Position(n + 5, 9)))
    assert "wfnew" in [i.label for i in result.items]
