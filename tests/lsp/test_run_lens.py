"""Run workflow from the editor: code lenses, executeCommand, streamed output, progress,
stop, and the run records on disk -- through the real protocol (guildls serve over stdio)."""

import asyncio
import os
import sys
import textwrap

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # --import-mode=importlib
from lsp_util import _plain  # noqa: E402

from guildls.runs import runs_dir

GUILD_YML = textwrap.dedent("""
    prepare-data:
      main: prepare
      flags:
        rows: 5
    train:
      main: train
      flags:
        epochs: 2
      requires:
        - operation: prepare-data
    end-to-end:
      steps:
        - prepare-data
        - train epochs=3
    sleepy:
      main: sleepy
    """).lstrip()


def _project(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "guild.yml").write_text(GUILD_YML)
    (root / "prepare.py").write_text(
        "rows = 5\nopen('data.csv', 'w').write('x\\n' * rows)\nprint(f'prepared {rows} rows')\n")
    (root / "train.py").write_text(
        "epochs = 2\nrows = len(open('data.csv').read().splitlines())\n"
        "print(f'trained epochs={epochs} on {rows} rows')\n")
    (root / "sleepy.py").write_text(
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print('sleeping', flush=True)\ntime.sleep(60)\n")
    return root


class Collector:
    def __init__(self, client: LanguageClient):
        self.output = {}
        self.started = []
        self.finished = {}
        self.events = {}

        @client.feature("guildls/runStarted")
        def _started(params):
            self.started.append(_plain(params))

        @client.feature("guildls/runOutput")
        def _output(params):
            p = _plain(params)
            self.output.setdefault(p["runId"], []).append(p["text"])

        @client.feature("guildls/runFinished")
        def _finished(params):
            p = _plain(params)
            self.finished[p["runId"]] = p
            ev = self.events.get(p["runId"])
            if ev is not None:
                ev.set()

    async def wait_finished(self, run_id, timeout=120):
        if run_id not in self.finished:
            ev = self.events.setdefault(run_id, asyncio.Event())
            await asyncio.wait_for(ev.wait(), timeout)
        return self.finished[run_id]


def _open(client, path, text):
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)))
    return uri


async def _exec(client, command, arg):
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=[arg]))


async def test_code_lenses(client: LanguageClient, tmp_path):
    root = _project(tmp_path)
    uri = _open(client, root / "guild.yml", GUILD_YML)
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    got = sorted((l.range.start.line, l.command.title, l.command.arguments[0]["operation"])
                 for l in lenses)
    assert got == [
        (0, "Run", "prepare-data"),
        (4, "Run", "train"),
        (10, "Run workflow", "end-to-end"),
        (10, "Show plan", "end-to-end"),
        (14, "Run", "sleepy"),
    ]
    assert all(l.command.arguments[0]["uri"] == uri for l in lenses)
    # lenses follow edits
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(
            text=GUILD_YML + "wf2:\n  steps: [train]\n")]))
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert ("Run workflow", "wf2") in {(l.command.title, l.command.arguments[0]["operation"])
                                       for l in lenses}


async def test_show_plan(client: LanguageClient, tmp_path):
    root = _project(tmp_path)
    uri = _open(client, root / "guild.yml", GUILD_YML)
    res = await _exec(client, "guildls.showPlan", {"uri": uri, "operation": "end-to-end"})
    assert "2. train: train epochs=3" in res["text"]
    assert [s["name"] for s in res["plan"]["steps"]] == ["prepare-data", "train"]
    assert res["plan"]["steps"][1]["flags"]["epochs"] == 3


async def test_run_workflow_streams_output_progress_and_records(client: LanguageClient, tmp_path):
    root = _project(tmp_path)
    col = Collector(client)
    uri = _open(client, root / "guild.yml", GUILD_YML)
    res = await _exec(client, "guildls.runWorkflow", {"uri": uri, "operation": "end-to-end"})
    run_id = res["runId"]
    # the server answers other requests while the run goes on
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert lenses
    fin = await col.wait_finished(run_id)
    assert fin["exitCode"] == 0 and fin["status"] == "completed"
    assert [r["name"] for r in fin["runs"]] == ["end-to-end", "prepare-data", "train"]
    text = "".join(col.output[run_id])
    assert "INFO: [guild] running train: train epochs=3" in text
    assert text.index("prepared 5 rows") < text.index("trained epochs=3 on 5 rows")
    assert any(s["runId"] == run_id and s["operation"] == "end-to-end" for s in col.started)
    assert any("trained epochs=3" in m.message for m in client.log_messages)
    # progress: begin, "step 2 of 2: train", end
    reports = client.progress_reports.get(f"guildls-run-{run_id}")
    assert reports, client.progress_reports.keys()
    assert isinstance(reports[0], types.WorkDoneProgressBegin)
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    msgs = [getattr(r, "message", None) for r in reports]
    assert "step 2 of 2: train" in msgs or reports[0].message == "step 2 of 2: train"
    # records on disk, readable Guild layout
    rd = os.path.join(runs_dir(str(root)), run_id)
    assert os.path.isfile(os.path.join(rd, ".guild", "opref"))
    assert sorted(n for n in os.listdir(rd) if n != ".guild") == ["prepare-data", "train"]
    train_dir = os.path.realpath(os.path.join(rd, "train"))
    assert os.path.isfile(os.path.join(train_dir, "data.csv"))


async def test_stop_run_ends_process_group(client: LanguageClient, tmp_path):
    root = _project(tmp_path)
    col = Collector(client)
    uri = _open(client, root / "guild.yml", GUILD_YML)
    res = await _exec(client, "guildls.runWorkflow", {"uri": uri, "operation": "sleepy"})
    run_id = res["runId"]
    deadline = asyncio.get_running_loop().time() + 120
    while asyncio.get_running_loop().time() < deadline:
        if "sleeping" in "".join(col.output.get(run_id, [])):
            break
        await asyncio.sleep(0.05)
    assert "sleeping" in "".join(col.output.get(run_id, []))
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    stop = [l for l in lenses if l.command.arguments[0].get("operation") is None]
    assert len(stop) == 1 and stop[0].command.title.startswith("Stop")
    assert stop[0].command.command == "guildls.stopRun"
    assert list(stop[0].command.arguments) == [{"runId": run_id}]
    stopped = await _exec(client, "guildls.stopRun", {"runId": run_id})
    assert stopped == {"stopped": True}
    fin = await col.wait_finished(run_id, timeout=120)
    assert fin["status"] == "terminated"
    rd = os.path.join(runs_dir(str(root)), run_id)
    with open(os.path.join(rd, ".guild", "attrs", "exit_status")) as f:
        assert f.read().strip() == "-15"


async def test_refuses_document_with_errors(client: LanguageClient, tmp_path):
    root = _project(tmp_path)
    bad = GUILD_YML + "broken:\n  flags: [a, b\n"
    uri = _open(client, root / "guild.yml", bad)
    with pytest.raises(Exception) as e:
        await _exec(client, "guildls.runWorkflow", {"uri": uri, "operation": "end-to-end"})
    assert "error" in str(e.value) and "line" in str(e.value)
    assert not os.path.exists(runs_dir(str(root))) or not os.listdir(runs_dir(str(root)))


async def test_plan_errors_are_reported(client: LanguageClient, tmp_path):
    root = _project(tmp_path)
    text = GUILD_YML + "wf-bad:\n  steps:\n    - train nope=1\n"
    uri = _open(client, root / "guild.yml", text)
    with pytest.raises(Exception) as e:
        await _exec(client, "guildls.runWorkflow", {"uri": uri, "operation": "wf-bad"})
    assert "unsupported flag 'nope'" in str(e.value)


async def test_cancel_progress_stops_run(client: LanguageClient, tmp_path):
    root = _project(tmp_path)
    col = Collector(client)
    uri = _open(client, root / "guild.yml", GUILD_YML)
    res = await _exec(client, "guildls.runWorkflow", {"uri": uri, "operation": "sleepy"})
    run_id = res["runId"]
    token = f"guildls-run-{run_id}"
    deadline = asyncio.get_running_loop().time() + 120
    while asyncio.get_running_loop().time() < deadline:
        if client.progress_reports.get(token) and "sleeping" in "".join(col.output.get(run_id, [])):
            break
        await asyncio.sleep(0.05)
    assert client.progress_reports.get(token), "no progress begun"
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    fin = await col.wait_finished(run_id, timeout=120)
    assert fin["status"] == "terminated"
    assert isinstance(client.progress_reports[token][-1], types.WorkDoneProgressEnd)


async def test_unknown_document_refused_clearly(client: LanguageClient, tmp_path):
    uri = (tmp_path / "nowhere" / "guild.yml").as_uri()
    for cmd in ("guildls.showPlan", "guildls.runWorkflow"):
        with pytest.raises(Exception) as e:
            await _exec(client, cmd, {"uri": uri, "operation": "train"})
        assert "unknown document" in str(e.value), cmd
        assert "Traceback" not in str(e.value) and "FileNotFoundError" not in str(e.value)


_MISSING_HOME = "/nonexistent-guildls-test-home"


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "guildls", "serve"],
                              server_env={**os.environ, "GUILD_HOME": _MISSING_HOME}),
)
async def client_no_home(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(), initialization_options={"debounce": 50}))
    yield
    await lsp_client.shutdown_session()


async def test_missing_guild_home_reason_reaches_client(client_no_home: LanguageClient, tmp_path):
    client = client_no_home
    root = _project(tmp_path)
    col = Collector(client)
    uri = _open(client, root / "guild.yml", GUILD_YML)
    res = await _exec(client, "guildls.runWorkflow", {"uri": uri, "operation": "prepare-data"})
    fin = await col.wait_finished(res["runId"])
    reason = f"guild: directory '{_MISSING_HOME}' does not exist"
    assert fin["exitCode"] == 1 and fin["error"] == reason
    assert reason in "".join(col.output.get(res["runId"], []))
    assert any(reason in m.message for m in client.log_messages)
