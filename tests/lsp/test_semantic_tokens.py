"""Semantic tokens in step strings and ${refs}, through the real protocol."""

import sys

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

URI = "file:///tmp/guildls-test/semtokens/guild.yml"
TEXT = """\
train:
  flags: {lr: 0.1, opt: a, é: 1}
  exec: python t.py ${lr}
wf:
  flags: {x: 1}
  steps:
    - train lr=${x} opt=sgd
    - run: train lr=0.2 opt=yes é=2
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "guildls", "serve"]))
async def client(lsp_client: LanguageClient):
    lsp_client.init_result = await lsp_client.initialize_session(
        types.InitializeParams(capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


def decode(data, legend):
    out, line, start = [], 0, 0
    for i in range(0, len(data), 5):
        dl, ds, n, t, _m = data[i:i + 5]
        line += dl
        start = start + ds if dl == 0 else ds
        out.append((line, start, n, legend[t]))
    return out


async def test_tokens_in_step_strings_and_refs(client: LanguageClient):
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=URI, language_id="guild", version=1, text=TEXT)))
    legend = client.init_result.capabilities.semantic_tokens_provider.legend.token_types
    res = await client.text_document_semantic_tokens_full_async(types.SemanticTokensParams(
        text_document=types.TextDocumentIdentifier(uri=URI)))
    lines = TEXT.split("\n")
    got = [(ln, lines[ln][c:c + n], t) for ln, c, n, t in decode(res.data, legend)]
    assert got == [
        (2, "${lr}", "variable"),
        (6, "train", "function"), (6, "lr", "parameter"), (6, "${x}", "variable"),
        (6, "opt", "parameter"), (6, "sgd", "string"),
        (7, "train", "function"), (7, "lr", "parameter"), (7, "0.2", "number"),
        (7, "opt", "parameter"), (7, "yes", "keyword"), (7, "é", "parameter"), (7, "2", "number"),
    ]
