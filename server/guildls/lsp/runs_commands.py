"""Run history on the language server (pygls wiring; the logic is in guildls.runs and
guildls.executor.{flaginfo,graph}). Contract: runs-api (README "Runs in the editor").

Commands (workspace/executeCommand, one object argument):
  guildls.listRuns       {uri?, cwd?, filters?}           -> [run, ...] newest first
  guildls.runScalars     {ids, keys?}                     -> {id: {key: [[step, value], ...]}}
  guildls.deleteRuns     {ids}                            -> {deleted: [ids]}  (Guild's trash)
  guildls.labelRun       {id, label}                      -> run
  guildls.runOutput      {id}                             -> {id, text, truncated}
  guildls.operationFlags {uri, operation}                 -> [{name, default, type, choices,
                                                              description, required}]
  guildls.validateFlags  {uri, operation, flags}          -> {errors: {flag: message}}
  guildls.workflowGraph  {uri, operation}                 -> {nodes, edges}
Notification guildls/runsChanged {dirs, ids}: runs of a known project started, finished or
were deleted (polled cheaply, see runs/watch.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Optional

from pygls.exceptions import JsonRpcException

from .lazy import lazy_module
from .run_commands import _doc_path

log = logging.getLogger(__name__)

REQUEST_FAILED = -32803
INVALID_PARAMS = -32602

CMD_LIST = "guildls.listRuns"
CMD_SCALARS = "guildls.runScalars"
CMD_DELETE = "guildls.deleteRuns"
CMD_LABEL = "guildls.labelRun"
CMD_OUTPUT = "guildls.runOutput"
CMD_FLAGS = "guildls.operationFlags"
CMD_VALIDATE = "guildls.validateFlags"
CMD_GRAPH = "guildls.workflowGraph"
N_RUNS_CHANGED = "guildls/runsChanged"

DEFAULT_POLL_INTERVAL = 1.0  # seconds between looks at the runs directories


def _refuse(message: str, code: int = REQUEST_FAILED) -> JsonRpcException:
    return JsonRpcException(message, code=code)


def _arg(args: tuple) -> dict:
    if len(args) == 1 and isinstance(args[0], list):
        args = tuple(args[0])
    if not args:
        return {}
    if not isinstance(args[0], dict):
        raise _refuse("expected one argument: an object", INVALID_PARAMS)
    return args[0]


def _uri_of(path: str) -> str:
    from pygls.uris import from_fs_path

    return from_fs_path(path) or path


def project_dirs(ls) -> list[str]:
    """Projects the server knows: workspace folders and the folders of open guild files."""
    out = []
    ws = ls.workspace
    for f in list(getattr(ws, "folders", {}).values()):
        p = _doc_path(f.uri)
        if p:
            out.append(p)
    for uri in list(getattr(ws, "text_documents", {}).keys()):
        p = _doc_path(uri)
        if p:
            out.append(os.path.dirname(p))
    root = getattr(ws, "root_path", None)
    if root:
        out.append(root)
    seen, uniq = set(), []
    for p in out:
        p = os.path.abspath(p)
        if p not in seen:
            seen.add(p)
            uniq.append(p)
    return uniq


def runs_dirs(ls, a: Optional[dict] = None) -> list[str]:
    from ..runs import runs_dir

    a = a or {}
    if isinstance(a.get("cwd"), str) and a["cwd"]:
        return [runs_dir(a["cwd"])]
    uri = a.get("uri")
    if isinstance(uri, str) and uri:
        p = _doc_path(uri)
        if not p:
            raise _refuse(f"guildls: not a file uri: {uri}", INVALID_PARAMS)
        return [runs_dir(p if os.path.isdir(p) else os.path.dirname(p))]
    return _runs_dirs_of(project_dirs(ls))


def _runs_dirs_of(projects: list) -> list[str]:
    from ..runs import runs_dir

    dirs = []
    for d in projects:
        r = runs_dir(d)
        if r not in dirs:
            dirs.append(r)
    return dirs


def _ids(a: dict, key: str = "ids") -> list[str]:
    ids = a.get(key)
    if isinstance(ids, str):
        ids = [ids]
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise _refuse(f"expected '{key}': a list of run ids", INVALID_PARAMS)
    return ids


def _select(ls, a: dict, ids: list[str]) -> list[dict]:
    from ..runs import query

    runs = query.list_runs(runs_dirs(ls, a), scalars=False)
    try:
        return query.select(runs, ids)
    except query.RunSelectError as e:
        raise _refuse(f"guildls: {e}")


async def _off_loop(fn, *args):
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def _plan_inputs(ls, a: dict):
    """(guildfile, project dir, operation) for {uri, operation}."""
    from .run_commands import _model

    uri, op = a.get("uri"), a.get("operation")
    if not isinstance(uri, str) or not isinstance(op, str) or not op:
        raise _refuse("expected 'uri' and 'operation'", INVALID_PARAMS)
    gf = _model(ls, uri)
    if gf is None:
        raise _refuse(f"guildls: unknown document {uri}")
    path = _doc_path(uri) or getattr(gf, "path", None)
    project_dir = os.path.dirname(os.path.abspath(path)) if path else os.getcwd()
    return gf, project_dir, op, path


# -- watching --------------------------------------------------------------------------------

class Watch:
    def __init__(self, ls, interval: float):
        self.ls = ls
        self.interval = interval
        self.watcher = None  # made (and the runs modules imported) by the first poll, off the loop
        self.task: Optional[asyncio.Task] = None

    def start(self) -> None:
        if self.task is None and self.interval > 0:
            self.task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            try:
                changes = await _off_loop(self._poll, project_dirs(self.ls))
                for root, ids in changes:
                    self.notify([root], ids)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("watching runs directories")
            await asyncio.sleep(self.interval)

    def _poll(self, projects: list):
        if self.watcher is None:
            from ..runs.watch import RunsWatcher

            self.watcher = RunsWatcher()
        return self.watcher.poll(_runs_dirs_of(projects))

    def notify(self, dirs: list, ids: list) -> None:
        from .run_commands import _refresh_lenses

        try:
            self.ls.protocol.notify(N_RUNS_CHANGED, {"dirs": dirs, "ids": ids})
        except Exception:
            log.debug("runsChanged not sent", exc_info=True)
        _refresh_lenses(self.ls)  # the lenses show each operation's last run


class JsonList(list):
    """A result that is JSON already (plain lists, dicts, numbers, text): sent without
    pygls walking every value through its converter (cattrs), which costs more than the
    listing itself for a thousand runs."""


class JsonDict(dict):
    __doc__ = JsonList.__doc__


def _send_as_is(server) -> None:
    conv = getattr(getattr(server, "protocol", None), "_converter", None)
    if conv is not None and hasattr(conv, "register_unstructure_hook"):
        conv.register_unstructure_hook(JsonList, list)
        conv.register_unstructure_hook(JsonDict, dict)


def register(server):
    """Register the run-history commands and the runs watcher on `server`."""
    query = lazy_module("guildls.runs.query")  # on the first command: not at spawn

    _send_as_is(server)

    watch_holder: dict = {}

    def watch() -> Optional[Watch]:
        return watch_holder.get("w")

    def start_watch(ls, interval: float):
        w = Watch(ls, interval)
        watch_holder["w"] = w
        try:
            w.start()
        except RuntimeError:  # no running loop
            pass

    server.guild_start_runs_watch = start_watch

    @server.command(CMD_LIST)
    async def _list(ls, *args):
        a = _arg(args)
        filters = a.get("filters") or []
        if not isinstance(filters, list) or not all(isinstance(f, str) for f in filters):
            raise _refuse("'filters' must be a list of strings", INVALID_PARAMS)
        dirs = runs_dirs(ls, a)
        return JsonList(await _off_loop(lambda: query.list_runs(dirs, filters)))

    @server.command(CMD_SCALARS)
    async def _scalars(ls, *args):
        a = _arg(args)
        ids = _ids(a)
        keys = a.get("keys")
        if keys is not None and (not isinstance(keys, list) or not all(isinstance(k, str) for k in keys)):
            raise _refuse("'keys' must be a list of scalar names", INVALID_PARAMS)
        return JsonDict(await _off_loop(lambda: query.scalar_series(_select(ls, a, ids), keys)))

    @server.command(CMD_DELETE)
    async def _delete(ls, *args):
        a = _arg(args)
        selected = _select(ls, a, _ids(a))
        try:
            deleted = await _off_loop(query.delete_runs, selected)
        except OSError as e:
            raise _refuse(f"guildls: could not delete: {e}")
        w = watch()
        if w is not None and deleted:
            w.notify(sorted({os.path.dirname(r["dir"]) for r in selected}), deleted)
        return {"deleted": deleted}

    @server.command(CMD_LABEL)
    async def _label(ls, *args):
        a = _arg(args)
        rid = a.get("id")
        label = a.get("label")
        if not isinstance(rid, str) or not rid:
            raise _refuse("expected 'id'", INVALID_PARAMS)
        if label is not None and not isinstance(label, str):
            raise _refuse("'label' must be text", INVALID_PARAMS)
        if label is not None and ("\n" in label or len(label) > 1000):
            raise _refuse("a label is one line of at most 1000 characters", INVALID_PARAMS)
        [run] = _select(ls, a, [rid])
        rec = await _off_loop(query.label_run, run, label)
        w = watch()
        if w is not None:
            w.notify([os.path.dirname(run["dir"])], [run["id"]])
        return rec

    @server.command(CMD_OUTPUT)
    async def _output(ls, *args):
        a = _arg(args)
        rid = a.get("id")
        if not isinstance(rid, str) or not rid:
            raise _refuse("expected 'id'", INVALID_PARAMS)
        [run] = _select(ls, a, [rid])
        return await _off_loop(query.run_output, run)

    @server.command(CMD_FLAGS)
    def _flags(ls, *args):
        from ..executor.flaginfo import operation_flags
        from ..executor.plan import PlanError

        gf, project_dir, op, _path = _plan_inputs(ls, _arg(args))
        try:
            return operation_flags(gf, op, project_dir)
        except PlanError as e:
            raise _refuse(f"guild: {e.message}")

    @server.command(CMD_VALIDATE)
    def _validate(ls, *args):
        from ..executor.flaginfo import validate_flags

        a = _arg(args)
        gf, project_dir, op, _path = _plan_inputs(ls, a)
        flags = a.get("flags") or {}
        if not isinstance(flags, dict):
            raise _refuse("'flags' must be an object of flag values", INVALID_PARAMS)
        return {"errors": validate_flags(gf, op, flags, project_dir)}

    @server.command(CMD_GRAPH)
    def _graph(ls, *args):
        from ..executor.graph import workflow_graph
        from ..executor.plan import PlanError, build_plan

        a = _arg(args)
        gf, project_dir, op, path = _plan_inputs(ls, a)
        try:
            plan = build_plan(gf, op, [], project_dir=project_dir)
        except PlanError as e:
            raise _refuse(f"guild: {e.message}")
        g = workflow_graph(plan, path)
        for n in g["nodes"]:
            f = n.pop("file", None)
            n["uri"] = a["uri"] if (f is None or f == path) else _uri_of(f)
        return g

    return server
