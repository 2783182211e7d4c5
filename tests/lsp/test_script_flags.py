"""Flags read from `main` scripts, through the real protocol: completion, hover,
go-to-definition into the script, checks, and re-checks when the script changes."""

import shutil
import sys

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from settled import Settler  # tests/, on sys.path (tests/conftest.py)

TRAIN = """\
import argparse

p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1, help="Learning rate")
p.add_argument("--opt", choices=["sgd", "adam"], default="adam")
args = p.parse_args()
"""
GUILD = """\
train:
  main: train
  flags-import: all
wf:
  steps:
    - train opt=bad momentum=0.9
    - train 
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "guildls", "serve"]))
async def client(lsp_client: LanguageClient):
    lsp_client.registrations = []

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams):
        lsp_client.registrations.extend(params.registrations)

    caps = types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(
        did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True)))
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=caps, initialization_options={"debounce": 20}))
    yield
    await lsp_client.shutdown_session()


def _setup(client, tmp_path):
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "guild.yml").write_text(GUILD)
    uri = (tmp_path / "guild.yml").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="guild", version=1, text=GUILD)))
    return uri


async def test_checks_use_the_scripts_flags(client: LanguageClient, tmp_path, diags_when):
    uri = _setup(client, tmp_path)
    diags = await diags_when(client, uri, lambda d: len(d) >= 2)
    got = sorted((d.code, d.range.start.line, d.message.split(" (")[0]) for d in diags)
    assert got == [("invalid-flag-value", 5, "Unsupported value for 'opt' - supported values are: sgd, adam"),
                   ("unknown-flag", 5, "unsupported flag 'momentum'")]


async def test_completion_and_hover_show_script_flags(client: LanguageClient, tmp_path, diags_when):
    uri = _setup(client, tmp_path)
    res = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(6, len("    - train "))))
    items = {i.label: i for i in res.items}
    assert list(items) == ["lr", "opt"]
    assert items["lr"].label_details.detail == " float = 0.1"
    assert items["lr"].label_details.description == "Learning rate"
    hov = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(5, len("    - train o"))))
    text = hov.contents.value if isinstance(hov.contents, types.MarkupContent) else str(hov.contents)
    assert "Imported from `train.py`, line 5." in text
    assert "sgd" in text


async def test_definition_goes_to_the_add_argument_line(client: LanguageClient, tmp_path, diags_when):
    uri = _setup(client, tmp_path)
    locs = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(5, len("    - train o"))))
    assert [(loc.uri, loc.range.start.line) for loc in locs] == [((tmp_path / "train.py").as_uri(), 4)]


async def test_script_changes_are_checked_again(client: LanguageClient, tmp_path, diags_when):
    uri = _setup(client, tmp_path)
    await diags_when(client, uri, lambda d: any(x.code == "unknown-flag" for x in d))
    watched = [r for r in client.registrations if r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    assert watched, "the server registers its file watchers"
    globs = [w["globPattern"] for w in watched[0].register_options["watchers"]]
    assert "**/*.py" in globs and "**/*.{yml,yaml}" in globs
    (tmp_path / "train.py").write_text(TRAIN.replace("args = p", 'p.add_argument("--momentum", type=float)\nargs = p'))
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=(tmp_path / "train.py").as_uri(), type=types.FileChangeType.Changed)]))
    diags = await diags_when(client, uri, lambda d: not any(x.code == "unknown-flag" for x in d))
    assert [d.code for d in diags] == ["invalid-flag-value"]


async def test_scripts_made_and_removed_between_edits_of_a_large_file(client: LanguageClient, tmp_path, diags_when):
    # A document large enough to be parsed incrementally, in a directory whose listing the
    # server keeps between edits (an old mtime, as most project directories have): a script
    # created, removed, or turned into a package between two edits is seen by the next edit.
    filler = "".join(f"op{i}:\n  main: op_{i}\n  flags:\n    x: {i}\n" for i in range(120))
    text = GUILD + filler
    settler = Settler()

    def settle():
        settler(*(d for d in (tmp_path, tmp_path / "train") if d.is_dir()))

    (tmp_path / "guild.yml").write_text(text)
    settle()
    uri = (tmp_path / "guild.yml").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="guild", version=1, text=text)))
    await diags_when(client, uri, lambda d: d == [])  # no script: the flags of `train` are open
    version = [1]
    assert text.split("\n")[10] == "    x: 0"  # the line each edit changes (x: 2, x: 3...)

    def edit():
        version[0] += 1
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version[0]),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(10, 7), types.Position(10, 8)), text=str(version[0]))]))

    def flagged(d):
        return sorted(x.code for x in d) == ["invalid-flag-value", "unknown-flag"]

    for step in range(2):
        (tmp_path / "train.py").write_text(TRAIN)
        settle()
        edit()
        await diags_when(client, uri, flagged)
        (tmp_path / "train.py").unlink()
        settle()
        edit()
        await diags_when(client, uri, lambda d: d == [])
        (tmp_path / "train").mkdir()
        (tmp_path / "train" / "__main__.py").write_text(TRAIN)
        settle()
        edit()
        await diags_when(client, uri, flagged)
        shutil.rmtree(tmp_path / "train")
        settle()
        edit()
        await diags_when(client, uri, lambda d: d == [])
