"""Run history through the real protocol: listRuns (same JSON as `guildls runs --format
json`), runScalars, labelRun, runOutput, deleteRuns, operationFlags, validateFlags,
workflowGraph, guildls/runsChanged (also for runs made by real Guild in a "terminal"),
guildls/stepStatus and the last-run code lens."""

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # --import-mode=importlib
from lsp_util import _plain  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed"
GUILD = os.environ.get("GUILD_EXE") or str(ROOT / ".venv-guild" / "bin" / "guild")


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "guildls", "serve"]),
)
async def client(lsp_client: LanguageClient):
    params = types.InitializeParams(
        capabilities=types.ClientCapabilities(
            window=types.WindowClientCapabilities(work_done_progress=True)),
        initialization_options={"debounce": 50, "runsPollInterval": 100},
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


class Events:
    def __init__(self, client):
        self.items = []
        self.cond = asyncio.Condition()
        for name in ("guildls/runsChanged", "guildls/stepStatus", "guildls/runFinished"):
            client.feature(name)(self._make(name))

    def _make(self, name):
        def handler(params):
            self.items.append((name, _plain(params)))
            asyncio.get_running_loop().create_task(self._wake())
        return handler

    async def _wake(self):
        async with self.cond:
            self.cond.notify_all()

    async def wait(self, pred, timeout=60):
        async def waiter():
            async with self.cond:
                while not any(pred(n, p) for n, p in self.items):
                    await self.cond.wait()
        await asyncio.wait_for(waiter(), timeout)
        return [p for n, p in self.items if pred(n, p)]


def _project(tmp_path):
    root = tmp_path / "seed"
    shutil.copytree(SEED, root, ignore=shutil.ignore_patterns(".guild"))
    return root


def _open(client, path):
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1,
                                             text=path.read_text())))
    return uri


async def _exec(client, command, arg):
    return _plain(await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=[arg])))


async def _run(client, events, uri, op, flags=None):
    arg = {"uri": uri, "operation": op}
    if flags:
        arg["flags"] = flags
    rid = (await _exec(client, "guildls.runWorkflow", arg))["runId"]
    [fin] = await events.wait(lambda n, p: n == "guildls/runFinished" and p["runId"] == rid)
    assert fin["exitCode"] == 0, fin
    return rid


def _cli_runs(root):
    out = subprocess.run([sys.executable, "-m", "guildls", "runs", "-C", str(root), "--format", "json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


async def test_run_list_compare_label_output_delete(client: LanguageClient, tmp_path):
    root = _project(tmp_path)
    events = Events(client)
    uri = _open(client, root / "guild.yml")
    wf = await _run(client, events, uri, "end-to-end")
    # step status events name the workflowGraph's nodes, in order, ending completed
    graph = await _exec(client, "guildls.workflowGraph", {"uri": uri, "operation": "end-to-end"})
    assert [(n["id"], n["label"], n["kind"], n["line"]) for n in graph["nodes"]] == [
        ("step-1", "prepare-data", "step", 47), ("step-2", "train", "step", 48), ("step-3", "test", "step", 49)]
    assert all(n["uri"] == uri and n["parent"] is None for n in graph["nodes"])
    assert {(e["from"], e["to"], e["kind"]) for e in graph["edges"]} == {
        ("step-1", "step-2", "order"), ("step-2", "step-3", "order"),
        ("step-1", "step-2", "requires"), ("step-2", "step-3", "requires"), ("step-1", "step-3", "requires")}
    steps = [p for n, p in events.items if n == "guildls/stepStatus" and p["runId"] == wf]
    done = [(p["step"], p["status"]) for p in steps if p["status"] != "running"]
    assert done == [("step-1", "completed"), ("step-2", "completed"), ("step-3", "completed")]
    assert all(p.get("stepRunId") for p in steps if p["status"] == "completed")

    await _run(client, events, uri, "train", {"lr": 0.5, "epochs": 3})
    runs = await _exec(client, "guildls.listRuns", {"uri": uri})
    assert runs == _cli_runs(root)  # the same JSON as the command line
    assert [r["operation"] for r in runs] == ["train", "test", "train", "prepare-data", "end-to-end"]
    top = runs[-1]
    assert top["id"] == wf and top["kind"] == "workflow" and len(top["steps"]) == 3
    assert top["scalars"]["accuracy"]["last"] == 1.0
    assert runs[0]["flags"]["lr"] == 0.5 and runs[0]["scalars"]["loss"]["step"] == 15
    # with no uri: the runs of every project the server knows (the open guild file's)
    assert [r["id"] for r in await _exec(client, "guildls.listRuns", {})] == [r["id"] for r in runs]
    assert [r["id"] for r in await _exec(client, "guildls.listRuns", {"uri": uri, "filters": ["lr=0.5"]})] == [runs[0]["id"]]

    series = await _exec(client, "guildls.runScalars", {"ids": [runs[0]["short_id"], runs[2]["id"]], "keys": ["loss"]})
    assert set(series) == {runs[0]["id"], runs[2]["id"]}
    # the seed's train logs loss at each of its 5 steps per epoch
    loss = series[runs[0]["id"]]["loss"]
    assert [s for s, _ in loss] == list(range(1, 16)) and loss[-1][1] == pytest.approx(runs[0]["scalars"]["loss"]["last"])
    assert [s for s, _ in series[runs[2]["id"]]["loss"]] == list(range(1, 11))

    labelled = await _exec(client, "guildls.labelRun", {"id": runs[0]["id"], "label": "<img src=x onerror=alert(1)>"})
    assert labelled["label"] == "<img src=x onerror=alert(1)>" and labelled["id"] == runs[0]["id"]
    await events.wait(lambda n, p: n == "guildls/runsChanged" and runs[0]["id"] in p["ids"])

    out = await _exec(client, "guildls.runOutput", {"id": runs[0]["id"]})
    assert "trained epochs=3 lr=0.5" in out["text"] and out["truncated"] is False

    # the lens above train tells how its last run went
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    titles = {l.command.arguments[0]["operation"]: l.command.title for l in lenses
              if l.command.command == "guildls.runWorkflow"}
    assert titles["train"].startswith("Run · ✓ just now · loss ")
    assert titles["end-to-end"] == "Run workflow · ✓ just now · accuracy 1.00"

    deleted = await _exec(client, "guildls.deleteRuns", {"ids": [runs[0]["id"]]})
    assert deleted == {"deleted": [runs[0]["id"]]}
    home = os.path.dirname(os.path.dirname(runs[0]["dir"]))
    assert os.path.isdir(os.path.join(home, "trash", "runs", runs[0]["id"]))
    await events.wait(lambda n, p: n == "guildls/runsChanged" and runs[0]["id"] in p["ids"])
    assert runs[0]["id"] not in [r["id"] for r in await _exec(client, "guildls.listRuns", {"uri": uri})]


async def test_bad_arguments_are_clear_errors(client: LanguageClient, tmp_path):
    root = _project(tmp_path)
    uri = _open(client, root / "guild.yml")
    for cmd, arg, msg in [
        ("guildls.runScalars", {"ids": "nope-not-there"}, "no run matches 'nope-not-there'"),
        ("guildls.runScalars", {}, "expected 'ids'"),
        ("guildls.labelRun", {"id": 5}, "expected 'id'"),
        ("guildls.deleteRuns", {"ids": ["zzzz"]}, "no run matches 'zzzz'"),
        ("guildls.listRuns", {"filters": "x"}, "'filters' must be a list"),
        ("guildls.operationFlags", {"uri": uri, "operation": "nope"}, "nope"),
        ("guildls.workflowGraph", {"uri": uri}, "expected 'uri' and 'operation'"),
    ]:
        with pytest.raises(JsonRpcException, match=msg):
            await _exec(client, cmd, arg)


async def test_operation_flags_and_validation(client: LanguageClient, tmp_path):
    root = _project(tmp_path)
    uri = _open(client, root / "guild.yml")
    flags = await _exec(client, "guildls.operationFlags", {"uri": uri, "operation": "train"})
    by = {f["name"]: f for f in flags}
    assert by["epochs"] == {"name": "epochs", "default": 2, "type": "int", "choices": None,
                            "description": "Number of passes over the data", "required": False}
    assert by["lr"]["default"] == 0.1 and by["lr"]["type"] == "float"
    wf = await _exec(client, "guildls.operationFlags", {"uri": uri, "operation": "end-to-end"})
    assert [(f["name"], f["default"]) for f in wf] == [("epochs", 2)]
    res = await _exec(client, "guildls.validateFlags",
                      {"uri": uri, "operation": "train", "flags": {"lr": "abc", "epochs": "0", "x": 1}})
    assert res == {"errors": {
        "lr": "invalid value abc for lr: invalid value for type 'float'",
        "epochs": "invalid value 0 for epochs: out of range (less than min 1)",
        "x": "unsupported flag 'x'"}}
    assert await _exec(client, "guildls.validateFlags",
                       {"uri": uri, "operation": "end-to-end", "flags": {"epochs": "5"}}) == {"errors": {}}


@pytest.mark.skipif(not os.path.exists(GUILD), reason=f"real Guild is not installed at {GUILD} (make oracle)")
async def test_runs_changed_for_a_run_by_real_guild(client: LanguageClient, tmp_path):
    from guildls.runs import runs_dir

    root = _project(tmp_path)
    events = Events(client)
    _open(client, root / "guild.yml")
    env = dict(os.environ)
    if not env.get("GUILD_HOME"):
        (root / ".guild").mkdir()  # Guild uses the nearest .guild up from the project
    runs_root = runs_dir(str(root), env)
    os.makedirs(runs_root, exist_ok=True)
    # the server watches the project's runs directory: a new entry is reported (the first
    # look at a directory only records it, so add entries until one is reported)
    for k in range(60):
        marker = f"{k:032x}"
        os.mkdir(os.path.join(runs_root, marker))
        try:
            await events.wait(lambda n, p: n == "guildls/runsChanged" and marker in p["ids"], timeout=2)
            break
        except asyncio.TimeoutError:
            continue
    else:
        raise AssertionError("no guildls/runsChanged for new entries of the runs directory")
    before = set(os.listdir(runs_root))
    proc = await asyncio.create_subprocess_exec(GUILD, "run", "prepare-data", "-y", cwd=str(root), env=env,
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert await asyncio.wait_for(proc.wait(), 180) == 0
    [rid] = set(os.listdir(runs_root)) - before
    got = await events.wait(lambda n, p: n == "guildls/runsChanged" and rid in p["ids"])
    assert got[0]["dirs"] == [runs_root]
    runs = await _exec(client, "guildls.listRuns", {"cwd": str(root)})
    assert (rid, "prepare-data", "completed") in [(r["id"], r["operation"], r["status"]) for r in runs]


async def test_strange_files_in_the_runs_directory_never_break_the_server(client: LanguageClient, tmp_path):
    """Foreign, half-written and unreadable things in a runs directory: the server lists what
    is a run (problems named), answers for the broken runs, and keeps answering."""
    from guildls import runs as R
    from guildls.runs.reader import cache_path
    from guildls.runs.scalars import encode_event, record

    root = _project(tmp_path)
    runs_root = R.runs_dir(str(root))
    os.makedirs(runs_root, exist_ok=True)
    good = R.create_run(runs_root)
    good.write_opref(R.encode_opref(str(root / "guild.yml"), "", "train", "0"))
    good.write_attr("flags", {"lr": 0.1})
    good.write_attr("started", R.timestamp())
    good.finalize(0)
    ev = record(encode_event(1.0, 1, scalars={"loss": 0.5})) + record(encode_event(2.0, 2, scalars={"loss": 0.25}))
    with open(good.guild_path("events.out.tfevents.1.h.1.0"), "wb") as f:
        f.write(ev + ev[:9])  # the last record cut short, as a writer killed mid-write leaves it
    broken = R.create_run(runs_root)
    broken.write_opref("garbage 'unclosed")
    for name, text in (("flags", "{unclosed: ["), ("started", "not a time"), ("exit_status", "[1")):
        with open(broken.guild_path("attrs", name), "w") as f:
            f.write(text)
    with open(broken.guild_path("output"), "wb") as f:
        f.write(b"\xff\xfe not utf-8 \x00\x01\n")
    with open(os.path.join(broken.path, "events.out.tfevents.2.h.1.0"), "wb") as f:
        f.write(b"\x00\x01junk, not a record" * 10)
    os.symlink("../" + "f" * 32, os.path.join(broken.path, "step"))  # a link to no run
    os.symlink(".", os.path.join(broken.path, "loop"))
    (Path(runs_root) / "notes.txt").write_text("not a run")
    (Path(runs_root) / ("a" * 32)).mkdir()  # a run being created: no .guild/opref yet
    (Path(runs_root) / ("b" * 32)).write_text("a file named like a run")
    os.symlink("c" * 32, os.path.join(runs_root, "c" * 32))  # a link to itself
    os.makedirs(os.path.dirname(cache_path(runs_root)), exist_ok=True)
    Path(cache_path(runs_root)).write_text('{"version": 1, "runs": {"' + good.id + '": {"stamp": "x"}}')

    uri = _open(client, root / "guild.yml")
    for _ in range(2):  # the second time from the server's cache
        runs = await _exec(client, "guildls.listRuns", {"cwd": str(root)})
        by = {r["id"]: r for r in runs}
        assert set(by) == {good.id, broken.id}
        assert by[good.id]["scalars"] == {"loss": {"last": 0.25, "step": 2}} and by[good.id]["problems"] == []
        b = by[broken.id]
        assert b["operation"] == "" and b["flags"] == {} and b["started"] is None and b["scalars"] == {}
        assert any(p.startswith("flags: not valid YAML") for p in b["problems"]), b["problems"]
    series = await _exec(client, "guildls.runScalars", {"ids": [good.id, broken.id], "cwd": str(root)})
    assert series == {good.id: {"loss": [[1, 0.5], [2, 0.25]]}, broken.id: {}}
    out = await _exec(client, "guildls.runOutput", {"id": broken.id, "cwd": str(root)})
    assert "not utf-8" in out["text"]
    # and the server still answers everything else
    flags = await _exec(client, "guildls.operationFlags", {"uri": uri, "operation": "train"})
    assert {"epochs", "lr"} <= {f["name"] for f in flags}
