"""Completion that edits right, through the real protocol (issue: editing as a new user)."""

import sys

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

TEXT = """\
prep:
  flags:
    n: 1
train:
  main: 
  flags:
    lr:
      default: 0.1
      type: float
      description: Learning rate
    opt:
      default: adam
      choices: [sgd, adam]
  requires:
    - operation: prep
wf:
  flags:
    x: 1
    o: sgd
  exec: python ${}
  steps:
    - train opt=
    - train 
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "guildls", "serve"]))
async def vscode(lsp_client: LanguageClient):
    caps = types.ClientCapabilities(text_document=types.TextDocumentClientCapabilities(
        completion=types.CompletionClientCapabilities(
            completion_item=types.ClientCompletionItemOptions(snippet_support=True, label_details_support=True))))
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=caps, client_info=types.ClientInfo(name="Visual Studio Code")))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "guildls", "serve"]))
async def plain(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


def _open(client, uri, text):
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="guild", version=1, text=text)))


async def _complete(client, uri, line, col):
    res = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line, col)))
    return res.items


def _apply(text, item):
    """The document after accepting ``item`` (single-line edit), and the cursor column."""
    lines = text.split("\n")
    r = item.text_edit.range
    ln = lines[r.start.line]
    lines[r.start.line] = ln[:r.start.character] + item.text_edit.new_text + ln[r.end.character:]
    return "\n".join(lines), r.start.character + len(item.text_edit.new_text)


def _project(tmp_path):
    (tmp_path / "train.py").write_text("lr = 0.1\n")
    (tmp_path / "prep.py").write_text("")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "evaluate.py").write_text("")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "hidden.py").write_text("")
    return (tmp_path / "guild.yml").as_uri()


async def test_reference_replaces_the_auto_closed_brace(vscode: LanguageClient, tmp_path):
    uri = _project(tmp_path)
    _open(vscode, uri, TEXT)
    line = 19  # `  exec: python ${}` with the editor's auto-closed brace, cursor before it
    col = len("  exec: python ${")
    items = {i.label: i for i in await _complete(vscode, uri, line, col)}
    text, cursor = _apply(TEXT, items["x"])
    assert text.split("\n")[line] == "  exec: python ${x}"
    assert cursor == len("  exec: python ${x}")  # after the brace, not before it


async def test_flag_names_show_type_and_default_and_dependencies_apart(vscode: LanguageClient, tmp_path):
    uri = _project(tmp_path)
    _open(vscode, uri, TEXT)
    items = await _complete(vscode, uri, 22, len("    - train "))
    labels = [i.label for i in items]
    assert labels == ["lr", "opt", "operation:prep"]
    lr = items[0]
    assert lr.label_details.detail == " float = 0.1"
    assert lr.label_details.description == "Learning rate"
    dep = items[2]
    assert dep.label_details.description == "run to use for dependency prep"
    assert dep.kind == types.CompletionItemKind.Reference
    assert dep.command is None  # a run id: nothing to suggest after `=`


async def test_choice_flag_values_are_its_choices_and_compatible_refs(vscode: LanguageClient, tmp_path):
    uri = _project(tmp_path)
    _open(vscode, uri, TEXT)
    items = await _complete(vscode, uri, 21, len("    - train opt="))
    assert [i.label for i in items] == ["adam", "sgd", "${o}"]


async def test_module_names_after_main(vscode: LanguageClient, tmp_path):
    uri = _project(tmp_path)
    _open(vscode, uri, TEXT)
    items = await _complete(vscode, uri, 4, len("  main: "))
    assert [(i.label, i.detail) for i in items] == [
        ("prep", "prep.py"), ("train", "train.py"), ("pkg.evaluate", "pkg/evaluate.py")]


async def test_snippets_in_an_empty_file_and_at_top_level(vscode: LanguageClient, tmp_path):
    uri = _project(tmp_path)
    _open(vscode, uri, "")
    items = await _complete(vscode, uri, 0, 0)
    assert [i.label for i in items] == ["operation", "workflow"]
    wf = items[1]
    assert wf.insert_text_format == types.InsertTextFormat.Snippet
    assert "steps:\n    - ${3:prepare}" in wf.text_edit.new_text
    top = TEXT + "ev"
    uri2 = (tmp_path / "other.yml").as_uri()
    _open(vscode, uri2, top)
    items = await _complete(vscode, uri2, len(top.split("\n")) - 1, 2)
    assert [i.label for i in items] == ["operation", "workflow"]
    assert items[0].text_edit.range.start.character == 0


async def test_no_snippets_for_clients_without_snippet_support(plain: LanguageClient, tmp_path):
    uri = _project(tmp_path)
    _open(plain, uri, "")
    assert list(await _complete(plain, uri, 0, 0)) == []


async def test_value_list_reopens_after_a_key_whose_value_is_a_name(vscode: LanguageClient, tmp_path):
    uri = _project(tmp_path)
    text = TEXT.replace("    - operation: prep", "    - oper")
    _open(vscode, uri, text)
    items = {i.label: i for i in await _complete(vscode, uri, 14, len("    - oper"))}
    assert items["operation"].text_edit.new_text == "operation: "
    assert items["operation"].command.command == "editor.action.triggerSuggest"
    text2 = TEXT.replace("  main: \n", "  mai\n")
    _open(vscode, uri, text2)
    items = {i.label: i for i in await _complete(vscode, uri, 4, len("  mai"))}
    assert items["main"].command.command == "editor.action.triggerSuggest"
    assert items["description"].command is None  # free text: nothing to offer
