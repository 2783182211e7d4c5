"""Start the guildls server bundled with the VS Code extension.

The bundled libraries (../bundled/libs) go first on sys.path of this process
only. PYTHONPATH would do the same but would also reach every process the
server starts, i.e. the user's own operations during a workflow run.
"""
import os
import runpy
import sys

LIBS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bundled", "libs")
# Nothing of the workspace (the working directory) on sys.path, even when started
# without -I (isolated mode, which the extension passes): a workspace's yaml.py or
# lsprotocol/ must never be imported by the server.
try:
    _cwd = os.path.realpath(os.getcwd())
except OSError:
    _cwd = None
sys.path[:] = [p for p in sys.path if p != "" and (_cwd is None or os.path.realpath(p) != _cwd)]
sys.path.insert(0, LIBS)
sys.argv[0] = "guildls"
runpy.run_module("guildls", run_name="__main__", alter_sys=True)
