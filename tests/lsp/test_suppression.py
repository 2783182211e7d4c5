"""Suppression comments, the severity setting and [tool.guildls], through the protocol."""

import sys

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

TEXT = """\
train:
  flags: {lr: 1}
wf:
  steps:
    - train lrr=1  # guildls: disable=unknown-flag
    # guildls: disable=unknown-operation
    - trian
    - train foo=1
    - trian2
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "guildls", "serve"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        initialization_options={"debounce": 20, "severity": {"unknown-flag": "error"}}))
    yield
    await lsp_client.shutdown_session()


async def test_comments_setting_and_pyproject(client: LanguageClient, tmp_path, diags_when):
    uri = (tmp_path / "guild.yml").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="guild", version=1, text=TEXT)))
    diags = await diags_when(client, uri, lambda d: len(d) > 0)
    got = sorted((d.range.start.line, d.code, d.severity) for d in diags)
    assert got == [(7, "unknown-flag", types.DiagnosticSeverity.Error),  # the setting
                   (8, "unknown-operation", types.DiagnosticSeverity.Warning)]
    # the project's pyproject.toml wins over the setting; a change is seen through the watcher
    (tmp_path / "pyproject.toml").write_text('[tool.guildls]\nseverity = { "unknown-flag" = "off" }\n')
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=(tmp_path / "pyproject.toml").as_uri(), type=types.FileChangeType.Created)]))
    diags = await diags_when(client, uri, lambda d: all(x.code != "unknown-flag" for x in d))
    assert [(d.range.start.line, d.code) for d in diags] == [(8, "unknown-operation")]
    # the setting changes at run time
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"guildls": {"severity": {"unknown-operation": "hint"}}}))
    diags = await diags_when(client, uri, lambda d: any(x.severity == types.DiagnosticSeverity.Hint for x in d))
    assert [(d.code, d.severity) for d in diags] == [("unknown-operation", types.DiagnosticSeverity.Hint)]
