"""Shared helpers of the packaging tests: the CPython interpreters on this machine, and a
real LSP session (pytest-lsp over stdio) with a server command of the test's choosing."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

from lsprotocol import types
from pytest_lsp import make_test_lsp_client

REPO = Path(__file__).resolve().parents[2]
CLIENT = REPO / "client-vscode"
SUPPORTED = [(3, m) for m in range(9, 15)]


def interpreters() -> dict:
    """{(3, minor): path} of the supported CPythons found here: this test's own, PATH,
    pyenv's versions, /usr/bin and /usr/local/bin (one per minor version). Outside
    `make test-packaging` (tests collected, then skipped): this test's own only."""
    found = {tuple(sys.version_info[:2]): sys.executable}
    if os.environ.get("GUILDLS_PACKAGING") != "1":
        return found
    candidates = []
    for major, minor in SUPPORTED:
        name = f"python{major}.{minor}"
        candidates.append(shutil.which(name))
        candidates += [f"/usr/bin/{name}", f"/usr/local/bin/{name}"]
        root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
        candidates += sorted(glob.glob(os.path.join(root, "versions", f"{major}.{minor}.*", "bin", name)))
    for c in candidates:
        if not c or not os.access(c, os.X_OK):
            continue
        r = subprocess.run([c, "-I", "-S", "-c",
                            "import sys; print(sys.implementation.name, *sys.version_info[:2])"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=60)
        parts = r.stdout.split()
        if r.returncode == 0 and len(parts) == 3 and parts[0] == "cpython":
            found.setdefault((int(parts[1]), int(parts[2])), c)
    return {v: p for v, p in sorted(found.items()) if v in SUPPORTED}


async def lsp_session(cmd: list, cwd: str) -> tuple:
    """Start CMD, initialize + initialized, then shutdown: (InitializeResult, log messages
    the server sent before its shutdown answer)."""
    client = make_test_lsp_client()
    await client.start_io(cmd[0], *cmd[1:], cwd=cwd)
    try:
        result = await client.initialize_session(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=Path(cwd).as_uri()))
        # the shutdown answer comes after everything the server sent on `initialized`
        await client.shutdown_session()
        messages = [m.message for m in client.log_messages]
    finally:
        await client.stop()
    return result, messages
