"""Completion in a large document right after a keystroke: answered from the last parsed
version (no re-parse on the keystroke), with the cursor context read from the new text."""

import asyncio
import os
import sys

from lsprotocol import types
from pytest_lsp import LanguageClient

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
from gen import guildfile  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # pytest runs with --import-mode=importlib
from lsp_util import record_publishes, wait_published  # noqa: E402

URI = "file:///tmp/guildls-test/typing/guild.yml"


def published(client, version, timeout=120):
    """A task that ends when the diagnostics of ``version`` are published (every publish is
    recorded, lsp_util.record_publishes: none is missed between two waits)."""
    record_publishes(client)
    return asyncio.ensure_future(wait_published(client, URI, version, timeout))


async def test_completion_after_keystroke_uses_current_text(client: LanguageClient):
    text = guildfile(400)  # ~5,800 lines: above the large-document threshold
    assert text.count("\n") > 3000
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=URI, language_id="yaml", version=1, text=text)))
    await published(client, 1)
    n = text.count("\n")
    # type a new workflow at the end, ending in "- op1 " (a step whose flags we want)
    typed = "wfnew:\n  steps:\n    - op1 "
    v2 = published(client, 2)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(n, 0), end=types.Position(n, 0)), text=typed)]))
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=URI), position=types.Position(n + 2, 10)))
    labels = [i.label for i in result.items]
    assert labels[:3] == ["lr", "epochs", "opt"] or set(labels) >= {"lr", "epochs", "opt"}, labels
    # after the typing pause the new version is parsed: the new workflow is a known operation
    await v2
    v3 = published(client, 3)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=3),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(n + 2, 10), end=types.Position(n + 2, 10)),
            text="\nouter:\n  steps:\n    - wfn")]))
    await v3  # the debounced check has parsed version 3
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=URI), position=types.Position(n + 5, 9)))
    assert "wfnew" in [i.label for i in result.items]


async def test_completion_right_after_each_keystroke_of_a_new_file(client: LanguageClient):
    """What VS Code sends while a new guild.yml is typed: one didChange per key and, for
    quick suggestions, a completion request right behind the change (no wait). The answer
    is for the text as it is after that key, never for the text before it."""
    uri = "file:///tmp/guildls-test/typing-new/guild.yml"
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="guild", version=1, text="")))
    line, col, version = 0, 0, 1
    for ch in "train:\n  m":
        version += 1
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line, col), end=types.Position(line, col)), text=ch)]))
        line, col = (line + 1, 0) if ch == "\n" else (line, col + 1)
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(1, 3)))
    main = next(i for i in result.items if i.label == "main")
    r = main.text_edit.range
    assert (r.start.line, r.start.character, r.end.character) == (1, 2, 3)  # replaces the typed "m"
    assert not result.is_incomplete
