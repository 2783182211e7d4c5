"""Batches from the editor, through the real protocol: Show plan lists the trials, a run
with `workers` reports "trial 3 of 4 (2 running)" progress and records every trial."""

import asyncio
import os
import re
import textwrap

from lsprotocol import types
from pytest_lsp import LanguageClient

from guildls import runs as R
from guildls.runs import runs_dir

GUILD_YML = textwrap.dedent("""
    w:
      main: wait
      flags:
        i: 0
        lr: 0.1
    sweep:
      steps:
        - w i=[1,2,3,4]
    """).lstrip()

WAITER = textwrap.dedent("""
    import os, time
    i = 0
    lr = 0.1
    marks = os.path.join(os.environ["PROJECT_DIR"], "marks")
    os.makedirs(marks, exist_ok=True)
    open(os.path.join(marks, os.environ["RUN_ID"]), "w").close()
    deadline = time.time() + 120
    while time.time() < deadline and len(os.listdir(marks)) < min(2 * ((i + 1) // 2), 4):
        time.sleep(0.02)  # trials 1-2, then 3-4, wait for each other: they overlap
    print("trial", i, "lr", lr)
    """).lstrip()


def _open(client, path, text):  # the document as the editor opens it; returns its uri
    item = types.TextDocumentItem(uri=path.as_uri(), language_id="yaml", version=1, text=text)
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))
    return item.uri


def _exec(client, command, arg):  # an awaitable workspace/executeCommand
    params = types.ExecuteCommandParams(command=command, arguments=[arg])
    return client.workspace_execute_command_async(params)


def _project(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "guild.yml").write_text(GUILD_YML)
    (root / "wait.py").write_text(WAITER)
    return root


async def test_show_plan_lists_trials(client: LanguageClient, tmp_path):
    root = _project(tmp_path)
    uri = _open(client, root / "guild.yml", GUILD_YML)
    res = await _exec(client, "guildls.showPlan", {"uri": uri, "operation": "sweep"})
    assert "batch: 4 trials of i in [1, 2, 3, 4]" in res["text"]
    assert "trial 4: i=4" in res["text"]
    assert [t["i"] for t in res["plan"]["steps"][0]["batch"]["trials"]] == [1, 2, 3, 4]
    res = await _exec(client, "guildls.showPlan", {
        "uri": uri, "operation": "w", "flags": ["lr=loguniform[1e-5:1e-1]"],
        "maxTrials": 20, "randomSeed": 3})
    assert "20 random trials of lr in loguniform[1e-5:1e-1]" in res["text"]
    # a bad batch value is refused with Guild's wording
    try:
        await _exec(client, "guildls.showPlan", {"uri": uri, "operation": "w",
                                                 "flags": ["lr=normal[0:1]"]})
    except Exception as e:
        assert "unknown function 'normal' used for flag lr" in str(e)
    else:
        raise AssertionError("a bad flag function was accepted")


async def test_batch_run_progress_and_records(client: LanguageClient, tmp_path):
    root = _project(tmp_path)
    uri = _open(client, root / "guild.yml", GUILD_YML)
    finished = {}
    done = asyncio.Event()

    @client.feature("guildls/runFinished")
    def _fin(params):
        p = params._asdict() if hasattr(params, "_asdict") else dict(vars(params))
        finished.update(p)
        done.set()

    output = []

    @client.feature("guildls/runOutput")
    def _out(params):
        p = params._asdict() if hasattr(params, "_asdict") else dict(vars(params))
        output.append(p["text"])

    res = await _exec(client, "guildls.runWorkflow", {"uri": uri, "operation": "sweep",
                                                      "workers": 2})
    run_id = res["runId"]
    await asyncio.wait_for(done.wait(), 240)
    assert finished["exitCode"] == 0, finished
    reports = client.progress_reports.get(f"guildls-run-{run_id}") or []
    msgs = [getattr(r, "message", None) or "" for r in reports]
    assert any(re.fullmatch(r"trial [34] of 4 \(2 running\)", m) for m in msgs), msgs
    rd = os.path.join(runs_dir(str(root)), run_id)
    batch = R.Run(None, os.path.realpath(os.path.join(rd, "w")))
    assert batch.opref["op"] == "+" and batch.status == "completed"
    trials = [R.Run(i, os.path.join(runs_dir(str(root)), i)) for i in batch.linked_run_ids()]
    assert sorted(t.get("flags")["i"] for t in trials) == [1, 2, 3, 4]
    assert all(t.status == "completed" for t in trials)
    # trials ran at once: their output reached the editor as whole lines, prefixed
    text = "".join(output)
    for i in (1, 2, 3, 4):
        assert f"[trial {i}/4] trial {i} lr 0.1\n" in text, text
    assert "[trial 1/4] INFO: [guild] Running trial " in text


BAD_BATCHES = textwrap.dedent("""
    t:
      exec: echo ${lr} ${n}
      flags: {lr: 0.1, n: 1}
    w:
      steps:
        - t lr=[0.1,0.2] n=[1,2,3] --max-trials 3
        - t lr=normal[0:1]
        - t lr=uniform[1:0]
        - t lr=[]
        - t lr=0.2 --max-trials 3
        - t lr=[1,2] --optimizer grid
    """).lstrip()


async def test_batch_syntax_diagnostics(client: LanguageClient, tmp_path):
    path = tmp_path / "guild.yml"
    path.write_text(BAD_BATCHES)
    uri = _open(client, path, BAD_BATCHES)
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        diags = client.diagnostics.get(uri)
        if diags is not None:
            break
        assert asyncio.get_running_loop().time() < deadline, "no diagnostics published"
        await asyncio.wait_for(client.wait_for_notification(
            types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 30)
    got = sorted((d.range.start.line, d.code, d.message) for d in diags)
    assert got == [
        (5, "invalid-batch", "--max-trials 3 on a grid of 6 trials: Guild runs 3 of them, "
                             "chosen at random (--random-seed fixes which)"),
        (6, "invalid-batch", "unknown function 'normal' used for flag lr"),
        (7, "invalid-batch", "invalid function args in 'lr=uniform[1:0]': the lower bound 1 "
                             "has to be less than the upper bound 0"),
        (8, "invalid-batch", "lr=[] is an empty list: the batch has no trials"),
        (9, "invalid-batch", "not a batch run - ignoring --max-trials"),
        (10, "invalid-batch", "operation 'grid' is not defined for this project "
                              "(Guild's grid batch is '+')"),
    ]
