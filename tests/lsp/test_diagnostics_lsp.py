"""Diagnostics through the real protocol: open, change (break and fix), save, close."""

import asyncio
import os
import sys

from lsprotocol import types
from pytest_lsp import LanguageClient

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # pytest runs with --import-mode=importlib
from lsp_util import record_publishes, wait_published  # noqa: E402

URI = "file:///tmp/guildls-test/guild.yml"
GOOD = "train:\n  main: train\n  flags: {lr: 0.1}\nwf:\n  steps: [train lr=0.2]\n"


# wait_diags(client, uri, version=None): the diagnostics once published (a hang guard:
# generous, as CI machines may be busy; speed is measured in bench/)
wait_diags = wait_published


def track(client):
    """Record the client's publishes from now on; forget what was published for URI."""
    log = record_publishes(client)
    log[:] = [p for p in log if p.uri != URI]
    client.diagnostics.pop(URI, None)


def open_doc(client, text, version=1, uri=URI):
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=version, text=text)))


def change(client, version, text=None, edit=None):
    if edit is not None:
        rng, new = edit
        ch = types.TextDocumentContentChangePartial(range=rng, text=new)
    else:
        ch = types.TextDocumentContentChangeWholeDocument(text=text)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=version), content_changes=[ch]))


async def test_open_publishes_diagnostics(client: LanguageClient):
    track(client)
    open_doc(client, GOOD + "bad:\n  steps: [trian]\n")
    diags = await wait_diags(client, URI, 1)
    assert len(diags) == 1
    d = diags[0]
    assert d.code == "unknown-operation"
    assert d.severity == types.DiagnosticSeverity.Warning
    assert d.range == types.Range(start=types.Position(6, 10), end=types.Position(6, 15))
    assert d.source == "guildls"


async def test_change_breaks_yaml_then_fixes_it(client: LanguageClient):
    track(client)
    open_doc(client, GOOD)
    assert await wait_diags(client, URI, 1) == []
    # incremental edit: remove the closing brace on line 2 -> YAML syntax error
    change(client, 2, edit=(types.Range(start=types.Position(2, 17), end=types.Position(2, 18)), ""))
    diags = await wait_diags(client, URI, 2)
    assert [d.code for d in diags if d.severity == types.DiagnosticSeverity.Error] == ["yaml-syntax"]
    change(client, 3, edit=(types.Range(start=types.Position(2, 17), end=types.Position(2, 17)), "}"))
    assert await wait_diags(client, URI, 3) == []


async def test_rapid_changes_publish_only_the_latest_version(client: LanguageClient):
    track(client)
    open_doc(client, GOOD)
    await wait_diags(client, URI, 1)
    for v in range(2, 12):
        change(client, v, text=GOOD + f"x{v}:\n  steps: [nope{v}]\n")
    diags = await wait_diags(client, URI, 11)
    assert [d.message.split("'")[1] for d in diags] == ["nope11"]
    # nothing for the intermediate versions was published after the debounce
    seen = [p.version for p in record_publishes(client) if p.uri == URI][-1]
    assert seen == 11


async def test_save_and_close(client: LanguageClient):
    track(client)
    open_doc(client, "op:\n  main: x\n  flags: 3\n")
    diags = await wait_diags(client, URI, 1)
    assert diags[0].message == "invalid flags value 3: expected a mapping"
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=URI)))
    assert (await wait_diags(client, URI, 1))[0].code == "invalid-type"
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=URI)))
    # the last publish for the document clears its diagnostics
    deadline = asyncio.get_running_loop().time() + 120
    while asyncio.get_running_loop().time() < deadline:
        if URI in client.diagnostics and list(client.diagnostics[URI]) == []:
            break
        await asyncio.sleep(0.05)
    assert list(client.diagnostics[URI]) == []


async def test_server_survives_hostile_documents(client: LanguageClient):
    track(client)
    hostile = ["\x00\x01\x02", "[" * 3000, "a: &a [*a]", "\t\tx: 1", "- - -\n  - : :", "op:\n  steps: [[[1]]]\n",
               "- model: m\n  operations: [1, 2]\n", "op: {flags: {d: 2020-01-01}}\n", "😀: {main: x}\nwf:\n  steps: [nope]\n"]
    for i, text in enumerate(hostile):
        uri = f"file:///tmp/guildls-test/h{i}/guild.yml"
        open_doc(client, text, uri=uri)
        await wait_diags(client, uri, 1)
    # still answering
    open_doc(client, GOOD, uri="file:///tmp/guildls-test/after/guild.yml")
    assert await wait_diags(client, "file:///tmp/guildls-test/after/guild.yml", 1) == []


async def test_ranges_are_utf16_on_lines_with_astral_characters(client: LanguageClient):
    track(client)
    uri = "file:///tmp/guildls-test/utf16/guild.yml"
    open_doc(client, 'op: {main: x}\nwf:\n  steps: ["\U0001F600", nope]\n', uri=uri)
    diags = await wait_diags(client, uri, 1)
    starts = sorted((d.range.start.character, d.range.end.character) for d in diags)
    # code points: the emoji is at 11-12 and nope at 15-19; in UTF-16 the emoji takes 2 units
    assert starts == [(11, 13), (16, 20)]


def _faulty(n):
    """Operations and workflows with problems of every check, one pair per i."""
    return "".join(f"op{i}:\n  main: train --u ${{undef{i}}}\n  bogus-attr: {i}\n  flags:\n    lr: 0.1\n"
                   f"    opt: {{choices: [a, b], default: c}}\n  requires:\n    - operation: nosuch{i}\n"
                   f"wf{i}:\n  steps:\n    - op{i} lr=abc zz=1\n    - run: wf{i}\n    - run: nosuch{i}\n"
                   for i in range(n))


def _plain(diags):
    return [(d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character,
             d.code, d.message, repr(d.data)) for d in diags]


async def test_lines_inserted_and_removed_above_problems_move_them(client: LanguageClient):
    # Enter and Backspace in a large document: the problems remembered for the operations
    # below move with their lines (model/chunks.py) and are published where a fresh open
    # of the same text puts them
    track(client)
    text = _faulty(40)
    assert text.count("\n") > 500  # parsed in chunks
    open_doc(client, text)
    await wait_diags(client, URI, 1)
    lines = text.split("\n")
    edits = [("enter", 2), ("backspace", 2), ("enter", 200), ("lines", 5), ("backspace", 5), ("enter", 300)]
    for version, (kind, line) in enumerate(edits, start=2):
        end = types.Position(line, len(lines[line]))
        if kind == "enter":
            change(client, version, edit=(types.Range(start=end, end=end), "\n"))
            lines.insert(line + 1, "")
        elif kind == "lines":
            change(client, version, edit=(types.Range(start=end, end=end), "\n# c\n\n  # d"))
            lines[line + 1:line + 1] = ["# c", "", "  # d"]
        else:
            change(client, version, edit=(types.Range(start=end, end=types.Position(line + 1, len(lines[line + 1]))), ""))
            del lines[line + 1]
        got = await wait_diags(client, URI, version)
        fresh = f"file:///tmp/guildls-test/fresh{version}.yml"
        open_doc(client, "\n".join(lines), uri=fresh)
        want = await wait_diags(client, fresh, 1)
        assert len(want) > 150
        assert _plain(got) == _plain(want), (kind, line)


def _linked(n):
    """Operations with a flag each, and a chain of workflows running them and the next."""
    return "".join(f"op{i}:\n  main: m\n  flags:\n    x{i}: 1\nwf{i}:\n  steps:\n    - op{i} x{i}=2\n"
                   f"    - {'wf' + str(i + 1) if i < n - 1 else 'op0'}\n" for i in range(n))


async def test_edits_that_change_what_other_operations_say(client: LanguageClient):
    # one line replaced at a time in a large document (the server keeps each pass's results
    # by position, see semantics.check and model/chunks.py): an edit in an operation that a
    # workflow runs, a step that closes a cycle through 60 workflows, a step that names no
    # operation; each publish is what a fresh open of the same text gives
    track(client)
    n = 60
    text = _linked(n)
    assert text.count("\n") > 400  # parsed in chunks
    open_doc(client, text)
    assert await wait_diags(client, URI, 1) == []
    lines = text.split("\n")
    last = 8 * (n - 1) + 7  # the last workflow's second step
    edits = [(8 * 5 + 3, "    y5: 1", "unknown-flag"), (8 * 5 + 3, "    x5: 1", None),
             (last, "    - wf0", "step-cycle"), (last, "    - op0", None),
             (8 * 10 + 7, "    - nosuch", "unknown-operation"), (8 * 10 + 7, "    - wf11", None)]
    for version, (line, new, code) in enumerate(edits, start=2):
        rng = types.Range(start=types.Position(line, 0), end=types.Position(line, len(lines[line])))
        change(client, version, edit=(rng, new))
        lines[line] = new
        got = await wait_diags(client, URI, version)
        fresh = f"file:///tmp/guildls-test/linked{version}.yml"
        open_doc(client, "\n".join(lines), uri=fresh)
        want = await wait_diags(client, fresh, 1)
        assert _plain(got) == _plain(want), (line, new)
        assert sorted({d.code for d in got}) == ([code] if code else []), (line, new)
