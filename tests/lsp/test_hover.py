"""Hover through the real protocol, with a client that renders Markdown (VS Code's capabilities)."""

import sys

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

URI = "file:///tmp/guildls-test/hover/guild.yml"

TEXT = """\
prep:
  description: Prepare the data
  flags:
    n:
      default: 1
      description: How many
train:
  description: Train a model
  flags:
    opt:
      default: adam
      choices: [sgd, adam]
wf:
  flags:
    x: 2
  steps:
    - prep n=${x}
    - train opt=sgd
"""


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "guildls", "serve"]),
)
async def vscode(lsp_client: LanguageClient):
    # like VS Code, accept the server's registrations (file watchers)
    lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)(lambda params: None)
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=client_capabilities("visual-studio-code")))
    lsp_client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=URI, language_id="yaml", version=1, text=TEXT)))
    yield
    await lsp_client.shutdown_session()


async def hover(client, line, character):
    return await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=URI), position=types.Position(line, character)))


def rng(sl, sc, el, ec):
    return types.Range(start=types.Position(sl, sc), end=types.Position(el, ec))


async def test_hover_step_operation(vscode: LanguageClient):
    h = await hover(vscode, 17, 8)
    assert h.range == rng(17, 6, 17, 11)
    assert h.contents.kind == types.MarkupKind.Markdown
    assert h.contents.value == (
        "**train** · operation\n\nTrain a model\n\n"
        "| Flag | Type | Default | Choices | Description |\n|---|---|---|---|---|\n"
        "| `opt` | string | `adam` | `sgd`, `adam` |  |")


async def test_hover_workflow_definition_lists_steps(vscode: LanguageClient):
    h = await hover(vscode, 12, 1)
    assert h.range == rng(12, 0, 12, 2)
    assert h.contents.value.endswith("Steps (2):\n1. `prep n=${x}`\n2. `train opt=sgd`")
    assert h.contents.value.startswith("**wf** · workflow")


async def test_hover_flag_assignment(vscode: LanguageClient):
    h = await hover(vscode, 16, 11)
    assert h.range == rng(16, 11, 16, 12)
    assert h.contents.value == ("**n** · flag of operation `prep`\n\nHow many\n\n"
                                "- type: `int`\n- default: `1`\n\nDefined on line 4.")


async def test_hover_flag_definition(vscode: LanguageClient):
    h = await hover(vscode, 9, 5)
    assert h.range == rng(9, 4, 9, 7)
    assert h.contents.value == ("**opt** · flag of operation `train`\n\n"
                                "- type: `string`\n- default: `adam`\n- choices: `sgd`, `adam`\n\nDefined on line 10.")


async def test_hover_reference(vscode: LanguageClient):
    h = await hover(vscode, 16, 15)
    assert h.range == rng(16, 13, 16, 17)
    assert h.contents.value == "`${x}` → flag **x** of workflow `wf`, defined on line 15; default `2`"


async def test_hover_attribute_key(vscode: LanguageClient):
    h = await hover(vscode, 11, 7)
    assert h.range == rng(11, 6, 11, 13)
    assert h.contents.value.startswith("**choices**")


async def test_no_hover_on_blank_or_value(vscode: LanguageClient):
    assert await hover(vscode, 18, 0) is None
    assert await hover(vscode, 14, 7) is None
