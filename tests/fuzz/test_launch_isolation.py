"""No workspace file can shadow a module of the server, in every launch path."""

import os
import sys

import pytest

from .rawclient import RawClient

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAUNCHER = os.path.join(ROOT, "client-vscode", "python", "guildls_launcher.py")
EVIL = "import os\nopen(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'PWNED-{}'), 'w').close()\n"


def _workspace(tmp_path):
    (tmp_path / "yaml.py").write_text(EVIL.format("yaml"))
    (tmp_path / "lsprotocol").mkdir()
    (tmp_path / "lsprotocol" / "__init__.py").write_text(EVIL.format("lsprotocol"))
    (tmp_path / "pygls.py").write_text(EVIL.format("pygls"))
    (tmp_path / "guild.yml").write_text("op:\n  main: x\n")
    return tmp_path


@pytest.mark.parametrize("cmd", [
    [sys.executable, "-m", "guildls", "serve"],  # the CLI fallback, by hand or from an editor
    [sys.executable, "-I", "-m", "guildls", "serve"],  # the extension's environment launch
    [sys.executable, LAUNCHER, "serve"],  # the launcher without -I
    [sys.executable, "-I", LAUNCHER, "serve"],  # the extension's bundled launch
], ids=["m", "I-m", "launcher", "I-launcher"])
def test_workspace_modules_are_never_imported(tmp_path, cmd):
    ws = _workspace(tmp_path)
    c = RawClient(cmd=cmd, cwd=str(ws), env={"PYTHONPATH": os.pathsep.join(
        p for p in (os.environ.get("PYTHONPATH"), ) if p)})
    try:
        assert c.initialize(root_uri=ws.as_uri()) is not None
        uri = (ws / "guild.yml").as_uri()
        c.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                           "text": "op:\n  main: x\n"}})
        r = c.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}})
        assert r is not None and r.get("result"), r
    finally:
        c.close()
    assert sorted(p.name for p in ws.iterdir() if p.name.startswith("PWNED")) == []
