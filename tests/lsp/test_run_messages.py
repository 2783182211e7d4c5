"""Run messages for the editor: no command-line advice, one line, "stopped" for a user stop,
and window/showMessage at start and end for clients without guildls's own notifications."""

import asyncio
import os
import sys

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # --import-mode=importlib
from lsp_util import client_named  # noqa: E402

GUILD_YML = """\
train:
  main: train
  flags:
    opt:
      default: a
      choices: [a, b]
sleepy:
  main: sleepy
wf:
  steps:
    - train nope=1
wf2:
  steps:
    - train opt=c
"""


neovim = client_named("Neovim")
vscode = client_named("Visual Studio Code")


def _open(client, tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "guild.yml").write_text(GUILD_YML)
    (root / "train.py").write_text("print('trained')\n")
    (root / "sleepy.py").write_text("import time\nprint('sleeping', flush=True)\ntime.sleep(60)\n")
    uri = (root / "guild.yml").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="guild", version=1, text=GUILD_YML)))
    return uri


async def _exec(client, cmd, arg):
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(command=cmd, arguments=[arg]))


def shown(client):
    """window/showMessage texts so far (pytest-lsp records them)."""
    return [m.message for m in client.messages]


async def _shown(client, pred, timeout=60):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not any(pred(m) for m in shown(client)):
        assert loop.time() < deadline, shown(client)
        try:  # short waits: a message may land between the check and the wait
            await asyncio.wait_for(client.wait_for_notification(types.WINDOW_SHOW_MESSAGE), 0.5)
        except asyncio.TimeoutError:
            pass


async def test_plan_errors_carry_no_command_line_advice(neovim: LanguageClient, tmp_path):
    uri = _open(neovim, tmp_path)
    with pytest.raises(Exception) as e:
        await _exec(neovim, "guildls.runWorkflow", {"uri": uri, "operation": "wf"})
    msg = str(e.value)
    assert "unsupported flag 'nope'" in msg
    assert "Try 'guild" not in msg and "--help-op" not in msg and "guild: " not in msg
    with pytest.raises(Exception) as e:
        await _exec(neovim, "guildls.runWorkflow", {"uri": uri, "operation": "wf2"})
    msg = str(e.value)
    assert "Unsupported value for 'opt' - supported values are: a, b" in msg
    assert "Run the command again" not in msg


async def test_start_and_end_are_shown_and_a_user_stop_is_stopped(neovim: LanguageClient, tmp_path):
    uri = _open(neovim, tmp_path)
    res = await _exec(neovim, "guildls.runWorkflow", {"uri": uri, "operation": "train"})
    await _shown(neovim, lambda m: m == "'train' completed")
    assert f"Running 'train' (run {res['runId'][:8]})" in shown(neovim)
    res = await _exec(neovim, "guildls.runWorkflow", {"uri": uri, "operation": "sleepy"})
    await _shown(neovim, lambda m: m.startswith("Running 'sleepy'"))
    assert (await _exec(neovim, "guildls.stopRun", {"runId": res["runId"]})) == {"stopped": True}
    await _shown(neovim, lambda m: m == "'sleepy' stopped")
    assert not any("-15" in m or "terminated" in m for m in shown(neovim))


async def test_vscode_extension_gets_its_own_notifications_only(vscode: LanguageClient, tmp_path):
    uri = _open(vscode, tmp_path)
    done = asyncio.get_running_loop().create_future()

    @vscode.feature("guildls/runFinished")
    def _finished(params):
        if not done.done():
            done.set_result(params)

    await _exec(vscode, "guildls.runWorkflow", {"uri": uri, "operation": "train"})
    await asyncio.wait_for(done, 60)
    assert shown(vscode) == []
