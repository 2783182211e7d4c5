"""Completion through the real protocol (guildls started over stdio)."""

from lsprotocol import types
from pytest_lsp import LanguageClient

URI = "file:///tmp/guildls-test/completion/guild.yml"

TEXT = """\
prep:
  description: Prepare the data
  flags:
    n: 1
train:
  description: Train a model
  flags:
    lr:
      default: 0.1
      description: Learning rate
    opt:
      default: adam
      choices: [sgd, adam]
wf:
  flags:
    x: 1
  steps:
    - prep n=2
    - run: train opt=
      flags:
        
    - tr"""


def open_doc(client: LanguageClient, text: str, uri: str = URI):
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)))


async def complete(client: LanguageClient, line: int, character: int, uri: str = URI):
    return await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character)))


def rng(sl, sc, el, ec):
    return types.Range(start=types.Position(sl, sc), end=types.Position(el, ec))


def test_trigger_characters_are_registered():
    from guildls.lsp.server import create_server

    opts = create_server().protocol.fm.feature_options[types.TEXT_DOCUMENT_COMPLETION]
    assert opts.trigger_characters == [" ", "=", ":", "{", "$", "-"]
    assert opts.resolve_provider is True


async def test_operation_names_in_a_new_step_on_invalid_yaml(client: LanguageClient):
    open_doc(client, TEXT + "\n  bad: [")
    res = await complete(client, 21, 8)
    ops = [(i.label, i.detail, i.text_edit.range) for i in res.items if i.kind == types.CompletionItemKind.Function]
    assert ops == [("prep", "Prepare the data", rng(21, 6, 21, 8)), ("train", "Train a model", rng(21, 6, 21, 8))]
    assert "wf" not in [i.label for i in res.items]


async def test_resolve_adds_the_operation_documentation(client: LanguageClient):
    open_doc(client, TEXT)
    res = await complete(client, 21, 8)
    train = [i for i in res.items if i.label == "train"][0]
    resolved = await client.completion_item_resolve_async(train)
    # this test client does not declare Markdown support: the text comes as a plain string
    assert resolved.documentation.startswith("**train** · operation\n\nTrain a model\n\n| Flag |")
    assert "| `lr` | float | `0.1` |  | Learning rate |" in resolved.documentation


async def test_flag_names_after_the_operation(client: LanguageClient):
    open_doc(client, TEXT)
    res = await complete(client, 18, len("    - run: train "))
    # opt is assigned after the cursor: only lr is offered
    assert [(i.label, i.text_edit.new_text, i.detail) for i in res.items] == [("lr", "lr=", "float, default 0.1")]
    assert res.items[0].text_edit.range == rng(18, 17, 18, 17)


async def test_choice_values_default_first_and_references(client: LanguageClient):
    open_doc(client, TEXT)
    res = await complete(client, 18, len("    - run: train opt="))
    assert [(i.label, i.text_edit.range) for i in res.items] == [
        ("adam", rng(18, 21, 18, 21)), ("sgd", rng(18, 21, 18, 21))]  # ${x} is an int: not a choice


async def test_step_flags_mapping(client: LanguageClient):
    open_doc(client, TEXT)
    res = await complete(client, 20, 8)
    assert [(i.label, i.text_edit.new_text) for i in res.items] == [("lr", "lr: "), ("opt", "opt: ")]


async def test_reference_after_dollar_brace(client: LanguageClient):
    open_doc(client, TEXT.replace("opt=", "opt=${"))
    res = await complete(client, 18, len("    - run: train opt=${"))
    assert [(i.label, i.text_edit.new_text, i.text_edit.range) for i in res.items] == [
        ("x", "x}", rng(18, 23, 18, 23))]


async def test_attribute_keys_from_the_schema(client: LanguageClient):
    open_doc(client, "train:\n  main: train\n  fl")
    res = await complete(client, 2, 4)
    got = [i.label for i in res.items]
    assert "flags" in got and "main" not in got
    flags = [i for i in res.items if i.label == "flags"][0]
    assert flags.text_edit.new_text == "flags: "
    assert flags.text_edit.range == rng(2, 2, 2, 4)
    resolved = await client.completion_item_resolve_async(flags)
    assert resolved.documentation.startswith("**flags**")


async def test_utf16_columns_on_lines_with_astral_characters(client: LanguageClient):
    text = "train:\n  flags:\n    lr: 0.1\nwf:\n  description: 🚀🚀\n  steps: [train lr=0.2, tr]  # 🚀 x"
    open_doc(client, text)
    # "  steps: [train lr=0.2, tr" has no astral character before the cursor: same columns
    res = await complete(client, 5, 26)
    assert [(i.label, i.text_edit.range) for i in res.items] == [("train", rng(5, 24, 5, 26))]
    text = "train:\n  flags:\n    lr: 0.1\nwf:\n  steps: ['🚀', tr]"
    open_doc(client, text, uri=URI + "2")
    # the rocket is 2 UTF-16 units: the cursor after "tr" is at code point 17, unit 18
    res = await complete(client, 4, 18, uri=URI + "2")
    assert [(i.label, i.text_edit.range) for i in res.items] == [("train", rng(4, 16, 4, 18))]


FULL = """\
- model: a
  operations:
    prep: prep
    wf:
      steps:
        - 
- model: b
  operations:
    train:
      flags:
        lr:
          type: """


async def test_full_format_model_qualified_names_and_enum_values(client: LanguageClient):
    open_doc(client, FULL)
    res = await complete(client, 5, 10)
    ops = [(i.label, i.text_edit.range) for i in res.items
           if i.kind in (types.CompletionItemKind.Function, types.CompletionItemKind.Module)]
    assert ops == [("prep", rng(5, 10, 5, 10)), ("a:prep", rng(5, 10, 5, 10)), ("b:train", rng(5, 10, 5, 10))]
    res = await complete(client, 11, 16)
    assert [i.label for i in res.items] == [
        "string", "int", "float", "number", "boolean", "path", "existing-path", "auto"]


LEVELS = """\
- config: base
  operations:
    prep:
      description: Prepare
- model: m
  extends: base
  resources:
    data:
      sources:
        - file: d.csv
      
  operations:
    fit:
      flags:
        quick:
          description: Go fast
          type: boolean
    wf:
      steps:
        - fit 
        - run: prep
          
    all:
      steps:
        - 
        - fit quick=
- """


async def test_inherited_operations_and_workflows_marked(client: LanguageClient):
    open_doc(client, LEVELS)
    res = await complete(client, 24, 10)
    ops = [(i.label, i.kind, i.detail) for i in res.items
           if i.kind in (types.CompletionItemKind.Function, types.CompletionItemKind.Module)]
    assert ops == [("fit", types.CompletionItemKind.Function, "operation"),
                   ("wf", types.CompletionItemKind.Module, "workflow"),
                   ("prep", types.CompletionItemKind.Function, "Prepare")]


async def test_boolean_values_and_flag_documentation(client: LanguageClient):
    open_doc(client, LEVELS)
    res = await complete(client, 25, len("        - fit quick="))
    assert [i.label for i in res.items] == ["true", "false"]
    res = await complete(client, 19, len("        - fit "))
    assert [(i.label, i.detail, i.documentation) for i in res.items] == [("quick", "boolean", "Go fast")]


async def test_attribute_keys_at_each_level(client: LanguageClient):
    open_doc(client, LEVELS)

    async def keys(line, character):
        return [i.label for i in (await complete(client, line, character)).items]

    top = await keys(26, 2)  # a new top-level item
    assert top[:4] == ["model", "config", "package", "include"]
    resource = await keys(10, 6)  # under resources: data:
    assert "target-path" in resource and "sources" not in resource
    flag = await keys(16, 10)  # on the key "type" of flag quick: other keys may replace it
    assert "default" in flag and "type" in flag and "description" not in flag
    step = await keys(21, 10)  # in the step mapping after run:
    assert "flags" in step and "run" not in step
    op = await keys(22, 4)  # on an operation name (a mapping of names): nothing to offer
    assert op == []
