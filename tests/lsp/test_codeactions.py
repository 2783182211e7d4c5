"""Quick fixes through the real protocol, on the diagnostics the server publishes."""

import asyncio

from lsprotocol import types
from pytest_lsp import LanguageClient

URI = "file:///tmp/guildls-test/codeactions/guild.yml"

TEXT = """\
train:
  main: train
  descripton: Train
  flags:
    lr: 0.1
wf:
  flags:
    rate: 1
  steps:
    - trian
    - train lrr=1
    - run: train lr=${rat}
"""


async def published(client: LanguageClient, text: str):
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=URI, language_id="yaml", version=1, text=text)))
    while True:
        params = await asyncio.wait_for(
            client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 60)
        if params.uri == URI:
            return params.diagnostics


async def actions(client: LanguageClient, diags):
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=URI),
        range=diags[0].range,
        context=types.CodeActionContext(diagnostics=diags)))


def rng(sl, sc, el, ec):
    return types.Range(start=types.Position(sl, sc), end=types.Position(el, ec))


def summary(acts):
    return [(a.title, a.kind, a.is_preferred, a.diagnostics[0].code,
             [(e.range, e.new_text) for e in a.edit.changes[URI]]) for a in acts]


async def test_change_to_quick_fixes(client: LanguageClient):
    diags = await published(client, TEXT)
    by_code = {d.code: d for d in diags}
    assert set(by_code) >= {"unknown-attribute", "unknown-operation", "unknown-flag", "undefined-reference"}
    got = summary(await actions(client, [by_code["unknown-operation"]]))
    assert got == [("Change to 'train'", types.CodeActionKind.QuickFix, True, "unknown-operation",
                    [(rng(9, 6, 9, 11), "train")])]
    got = summary(await actions(client, [by_code["unknown-flag"]]))
    assert got == [("Change to 'lr'", types.CodeActionKind.QuickFix, True, "unknown-flag",
                    [(rng(10, 12, 10, 15), "lr")]),
                   ("Define flag 'lrr' in 'train'", types.CodeActionKind.QuickFix, None, "unknown-flag",
                    [(rng(5, 0, 5, 0), "    lrr: 1\n")])]
    got = summary(await actions(client, [by_code["unknown-attribute"]]))
    assert got[0] == ("Change to 'description'", types.CodeActionKind.QuickFix, True, "unknown-attribute",
                      [(rng(2, 2, 2, 12), "description")])


async def test_undefined_reference_fixes(client: LanguageClient):
    diags = await published(client, TEXT)
    ref = [d for d in diags if d.code == "undefined-reference"]
    got = summary(await actions(client, ref))
    assert got == [
        ("Change to 'rate'", types.CodeActionKind.QuickFix, True, "undefined-reference",
         [(rng(11, 22, 11, 25), "rate")]),
        ("Define flag 'rat'", types.CodeActionKind.QuickFix, None, "undefined-reference",
         [(rng(8, 0, 8, 0), "    rat: 0.1\n")]),  # the default of train's lr: never null
    ]


async def test_no_actions_for_other_kinds(client: LanguageClient):
    diags = await published(client, TEXT)
    res = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=URI), range=diags[0].range,
        context=types.CodeActionContext(diagnostics=diags, only=[types.CodeActionKind.Refactor])))
    assert res is None
