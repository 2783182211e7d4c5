"""At most `maxDiagnostics` diagnostics per document are published (VS Code itself shows no
more than 1,000 per file): errors are kept first, and the last one, an information
diagnostic, says how many more there are. `guildls check` is not capped (tests/cli)."""

import sys

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

N = 6000
# 6,000 unknown attributes, then an error Guild refuses the file for, on the last lines
TEXT = "op: {" + ", ".join(f"k{i}: {i}" for i in range(N)) + "}\nzz:\n  flags: 1\n"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "guildls", "serve"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(), initialization_options={"debounce": 20}))
    yield
    await lsp_client.shutdown_session()


def _open(client, uri, text=TEXT):
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="guild", version=1, text=text)))


async def test_default_cap_keeps_errors_and_says_how_many_more(client: LanguageClient, tmp_path, diags_when):
    uri = (tmp_path / "guild.yml").as_uri()
    _open(client, uri)
    diags = await diags_when(client, uri, lambda d: len(d) > 0, timeout=120)
    assert len(diags) == 5000
    errors = [d for d in diags if d.severity == types.DiagnosticSeverity.Error]
    assert [(d.range.start.line, d.code) for d in errors] == [(2, "invalid-type")]
    last = diags[-1]
    assert last.code == "too-many-problems" and last.severity == types.DiagnosticSeverity.Information
    assert "1,002 more problems are not shown" in last.message and "maxDiagnostics" in last.message
    assert "guildls check" in last.message
    # the summary sits where the first problem left out is: k4998's key (4,999 = 1 error + 4,998)
    i = TEXT.index("k4998:")
    assert (last.range.start.line, last.range.start.character) == (0, i)
    assert sum(d.code == "unknown-attribute" for d in diags) == 4998


async def test_cap_follows_the_setting(client: LanguageClient, tmp_path, diags_when):
    uri = (tmp_path / "guild.yml").as_uri()
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"guildls": {"maxDiagnostics": 10}}))
    _open(client, uri)
    diags = await diags_when(client, uri, lambda d: len(d) > 0, timeout=120)
    assert len(diags) == 10 and diags[-1].code == "too-many-problems"
    assert "5,992 more problems" in diags[-1].message
    # a bad value is refused in the log, not a popup, and the cap in force stays
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"guildls": {"maxDiagnostics": "lots"}}))
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"guildls": {"maxDiagnostics": float("inf")}}))
    # no cap below the document's count: everything, without the summary
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"guildls": {"maxDiagnostics": 100000}}))
    diags = await diags_when(client, uri, lambda d: len(d) == N + 1, timeout=120)
    assert all(d.code != "too-many-problems" for d in diags)
    assert not any("maxDiagnostics" in m.message for m in client.messages)  # no popup
    assert any("maxDiagnostics" in m.message and "lots" in m.message for m in client.log_messages)
    assert any("maxDiagnostics" in m.message and "Infinity" in m.message for m in client.log_messages)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "guildls", "serve"]))
async def client3(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        initialization_options={"debounce": 20, "maxDiagnostics": 3}))
    yield
    await lsp_client.shutdown_session()


async def test_initialization_option(client3: LanguageClient, tmp_path, diags_when):
    """`initializationOptions: {"maxDiagnostics": N}`, for editors that send no settings."""
    uri = (tmp_path / "guild.yml").as_uri()
    _open(client3, uri)
    diags = await diags_when(client3, uri, lambda d: len(d) > 0, timeout=120)
    # in document order: one unknown attribute, the error, then the summary
    assert [(d.range.start.line, d.code) for d in diags] == [
        (0, "unknown-attribute"), (2, "invalid-type"), (0, "too-many-problems")]
    assert "5,999 more problems" in diags[-1].message
