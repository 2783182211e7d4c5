"""The one reader and writer of Guild's run layout (`$GUILD_HOME/runs` or `<project>/.guild/runs`).

| module | what |
|---|---|
| `layout.py` | paths, ids, timestamps, opref, atomic attribute writes, `Run` (one run directory) |
| `records.py` | writing a new run's records (`create_run`, `init_common_attrs`, `vcs_commit`) |
| `status.py` | status as Guild derives it (exit status, live LOCK pid) |
| `listing.py` | finding runs in a runs directory |
| `scalars.py` | output scalars -> TensorBoard event files |
"""

# the names below are loaded on first use (PEP 562): `guildls runs` imports only the reader
_EXPORTS = {
    "Run": "layout", "atomic_write": "layout", "decode_opref": "layout", "encode_attr": "layout",
    "encode_opref": "layout", "file_md5": "layout", "file_sha1": "layout",
    "new_run_id": "layout", "runs_dir": "layout", "step_link_name": "layout",
    "timestamp": "layout", "find_run": "listing", "iter_runs": "listing",
    "create_run": "records", "init_common_attrs": "records", "vcs_commit": "records",
    "pid_alive": "status", "status_for_exit": "status",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value
