"""Quick fixes for bad values and fix-all for one code, through the real protocol."""

import asyncio

from lsprotocol import types
from pytest_lsp import LanguageClient

URI = "file:///tmp/guildls-test/codeactions-values/guild.yml"
TEXT = """\
train:
  main: train
  flags:
    lr: 0.1
    opt:
      default: adam
      choices: [sgd, adam]
    epochs:
      default: 10
      type: int
wf:
  steps:
    - train opt=adm epochs=many
    - train lrr=1
    - train lrr=2 opt=sgd
"""


async def published(client: LanguageClient):
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=URI, language_id="guild", version=1, text=TEXT)))
    while True:
        params = await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 30)
        if params.uri == URI:
            return params.diagnostics


async def actions(client, diags):
    res = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=URI), range=diags[0].range,
        context=types.CodeActionContext(diagnostics=diags)))
    return [(a.title, a.is_preferred, [(e.range.start.line, e.range.start.character, e.range.end.character, e.new_text)
                                       for e in a.edit.changes[URI]]) for a in res or ()]


async def test_bad_choice_offers_each_choice_and_bad_type_the_default(client: LanguageClient):
    diags = await published(client)
    bad = sorted([d for d in diags if d.code == "invalid-flag-value"], key=lambda d: d.range.start.character)
    assert len(bad) == 2
    assert await actions(client, [bad[0]]) == [
        ("Change to 'sgd'", True, [(12, 16, 19, "sgd")]),
        ("Change to 'adam'", None, [(12, 16, 19, "adam")]),
        ("Fix all 'invalid-flag-value' problems in this file (2)", None, [(12, 16, 19, "sgd"), (12, 27, 31, "10")]),
    ]
    assert (await actions(client, [bad[1]]))[0] == ("Use the default '10'", True, [(12, 27, 31, "10")])


async def test_fix_all_for_one_code(client: LanguageClient):
    diags = await published(client)
    unknown = [d for d in diags if d.code == "unknown-flag"]
    assert len(unknown) == 2
    got = await actions(client, [unknown[0]])
    assert got[-1] == ("Fix all 'unknown-flag' problems in this file (2)", None,
                       [(13, 12, 15, "lr"), (14, 12, 15, "lr")])
