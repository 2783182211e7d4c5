"""Start the guildls server bundled with the VS Code extension.

The bundled libraries (../bundled/libs, laid out by scripts/bundle_python.py) go on
sys.path of this process only. PYTHONPATH would do the same but would also reach every
process the server starts, i.e. the user's own operations during a workflow run.

    libs/_cpython/cp3XY/  compiled dependencies for this interpreter's ABI (first)
    libs/                 guildls and the pure-Python dependencies
    libs/_fallback/       pure-Python stand-ins for the compiled ones (last)

An interpreter with no compiled folder here (a universal package, a CPython this package
has no wheels for, a free-threaded build) runs on the fallbacks; the server says so in its
log (guildls.speedups).
"""
import os
import runpy
import sys
import sysconfig

LIBS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bundled", "libs")


def abi_tag():
    """cp312 for CPython 3.12 (cp313t when free-threaded); other interpreters: None."""
    if sys.implementation.name != "cpython":
        return None
    tag = "cp%d%d" % sys.version_info[:2]
    return tag + "t" if sysconfig.get_config_var("Py_GIL_DISABLED") else tag


def bundle_path(libs=LIBS, abi=None):
    abi = abi or abi_tag()
    paths = [libs, os.path.join(libs, "_fallback")]
    compiled = os.path.join(libs, "_cpython", abi) if abi else None
    if compiled and os.path.isdir(compiled):
        paths.insert(0, compiled)
    return paths


def _workspace_off_sys_path():
    """Nothing of the workspace (the working directory) on sys.path, even when started
    without -I (isolated mode, which the extension passes): a workspace's yaml.py or
    lsprotocol/ must never be imported by the server."""
    try:
        cwd = os.path.realpath(os.getcwd())
    except OSError:
        cwd = None
    sys.path[:] = [p for p in sys.path if p != "" and (cwd is None or os.path.realpath(p) != cwd)]


if __name__ == "__main__":
    _workspace_off_sys_path()
    sys.path[0:0] = bundle_path()
    sys.argv[0] = "guildls"
    runpy.run_module("guildls", run_name="__main__", alter_sys=True)
