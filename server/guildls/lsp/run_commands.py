"""Run commands on the language server: code lenses, executeCommand handlers, streaming.

Code lenses: "Run workflow" + "Show plan" above every operation with steps, "Run" above
every other operation of a model (not of `config:` items). Command arguments are
`[{"uri": <document uri>, "operation": <model:op or op>}]`; `flags` (list of `NAME=VAL`
or a mapping) is accepted too.

Commands (workspace/executeCommand):
  guildls.runWorkflow  [{uri, operation, flags?}] -> {"runId"} at once; the run goes on in a
                       worker thread, never blocking other requests.
  guildls.showPlan     [{uri, operation, flags?}] -> {"text", "plan"}
  guildls.stopRun      [{runId}]                  -> {"stopped": bool}

Notifications sent while a run goes on:
  guildls/runStarted   {runId, operation, uri, runsDir}
  guildls/runOutput    {runId, text}          (coalesced chunks; also window/logMessage)
  guildls/stepStatus   {runId, step: "step-<k>" (workflowGraph node id), stepRunId?, status}
  guildls/runFinished  {runId, exitCode, status, runs: [{id, name, operation, status,
                        exitStatus, duration, depth}], error?}  (`error`: why it failed
                        when no step said so, e.g. GUILD_HOME does not exist)
  $/progress           server-created work-done progress "step 2 of 3: train"; cancelling
                       it stops the run.

A document with error diagnostics is refused (the error says which, with line numbers).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import threading
import uuid
from typing import Any, Dict, List, Optional

from lsprotocol import types
from pygls.exceptions import JsonRpcException

log = logging.getLogger(__name__)

REQUEST_FAILED = -32803  # LSP ErrorCodes.RequestFailed
INVALID_PARAMS = -32602

CMD_RUN = "guildls.runWorkflow"
CMD_PLAN = "guildls.showPlan"
CMD_STOP = "guildls.stopRun"

N_STARTED = "guildls/runStarted"
N_OUTPUT = "guildls/runOutput"
N_FINISHED = "guildls/runFinished"
N_STEP_STATUS = "guildls/stepStatus"

OUTPUT_FLUSH_DELAY = 0.03  # seconds: coalesce output into fewer notifications
MAX_LOG_CHUNK = 64 * 1024

_active: Dict[str, "ActiveRun"] = {}


def _refuse(message: str, code: int = REQUEST_FAILED) -> JsonRpcException:
    return JsonRpcException(message, code=code)


# ---------------------------------------------------------------------------------------
# document and model access


def _model(ls, uri: str):
    """The document's Guildfile, or None for a document neither open nor on disk."""
    try:
        getter = getattr(ls, "guild_model", None)
        if getter is not None:
            return getter(uri)
        from ..model import load
        from pygls.uris import to_fs_path

        doc = ls.workspace.get_text_document(uri)
        return load(doc.source, to_fs_path(uri))
    except (OSError, UnicodeDecodeError):  # pygls reads an unopened document lazily
        return None


def _error_problems(ls, uri: str, gf) -> list:
    diags = getattr(ls, "guild_diagnostics", None)
    problems = diags(uri) if diags is not None else list(getattr(gf, "problems", []))
    return [p for p in problems if getattr(p, "severity", "") == "error"]


def _args(args: tuple) -> dict:
    if len(args) == 1 and isinstance(args[0], list):
        args = tuple(args[0])
    if not args or not isinstance(args[0], dict):
        raise _refuse("expected one argument: an object with 'uri' and 'operation'", INVALID_PARAMS)
    return args[0]


def _doc_path(uri: str) -> Optional[str]:
    from pygls.uris import to_fs_path

    try:
        return to_fs_path(uri)
    except Exception:
        return None


def _flags_arg(a: dict) -> list:
    flags = a.get("flags") or []
    if isinstance(flags, dict):
        from ..model import flagvals as fv

        return [f"{k}={v if isinstance(v, str) else fv.encode_flag_val(v)}" for k, v in flags.items()]
    if isinstance(flags, list):
        return [str(f) for f in flags]
    raise _refuse("'flags' must be a list of NAME=VALUE or an object", INVALID_PARAMS)


def build_plan_for(ls, a: dict, refuse_errors: bool = True):
    """(plan, guildfile, project dir, guild file path) for command arguments, or a refusal."""
    from ..executor.plan import PlanError, build_plan

    uri = a.get("uri")
    op = a.get("operation")
    if not isinstance(uri, str) or not isinstance(op, str) or not op:
        raise _refuse("expected 'uri' and 'operation'", INVALID_PARAMS)
    gf = _model(ls, uri)
    if gf is None:
        raise _refuse(f"unknown document {uri}")
    if refuse_errors:
        errors = _error_problems(ls, uri, gf)
        if errors:
            first = "; ".join(
                f"line {p.range.start_line + 1}: {p.message}" for p in errors[:3])
            more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
            raise _refuse(f"the guild file has {len(errors)} error(s): {first}{more}")
    path = _doc_path(uri) or getattr(gf, "path", None)
    project_dir = os.path.dirname(os.path.abspath(path)) if path else os.getcwd()
    try:
        plan = build_plan(gf, op, _flags_arg(a), project_dir=project_dir,
                          label=a.get("label"), tags=a.get("tags") or (),
                          force_flags=bool(a.get("forceFlags")))
    except PlanError as e:
        raise _refuse(editor_message(e))
    return plan, gf, project_dir, path


# ---------------------------------------------------------------------------------------
# code lenses


def code_lenses(ls, uri: str, history: Optional[dict] = None) -> List[types.CodeLens]:
    """Run lenses; `history` = last_runs(uri) (read off the loop by the handler)."""
    from .positions import Columns, encoding_of

    gf = _model(ls, uri)
    if gf is None:
        return []
    cols = Columns(gf.lines, encoding_of(ls))
    lenses: List[types.CodeLens] = []
    model_ids = {id(m) for m in gf.models.values()}
    history = history or {}
    for op in gf.local_operations():
        if id(op.model) not in model_ids or op.key_range is None:
            continue
        rng = cols.range(op.key_range)
        arg = {"uri": uri, "operation": op.fullname}
        running = [r for r in _active.values()
                   if r.uri == uri and r.plan.opspec == op.fullname and not r.finished]
        if running:
            r = running[-1]
            status = r.last_progress[0] if r.last_progress else "running"
            lenses.append(types.CodeLens(range=rng, command=types.Command(
                title=f"Stop ({status})", command=CMD_STOP, arguments=[{"runId": r.run_id}])))
            continue
        suffix = _last_run_suffix(history, op.fullname)
        if op.is_workflow:
            lenses.append(types.CodeLens(range=rng, command=types.Command(
                title="Run workflow" + suffix, command=CMD_RUN, arguments=[arg])))
            lenses.append(types.CodeLens(range=rng, command=types.Command(
                title="Show plan", command=CMD_PLAN, arguments=[arg])))
        else:
            lenses.append(types.CodeLens(range=rng, command=types.Command(
                title="Run" + suffix, command=CMD_RUN, arguments=[arg])))
    return lenses


def last_runs(uri: str) -> dict:
    """{operation: its newest run (with scalars)} for the document's project; {} when the runs
    cannot be read. Reads files: called off the event loop."""
    from ..runs import query, runs_dir

    path = _doc_path(uri)
    if not path:
        return {}
    try:
        runs = query.list_runs([runs_dir(os.path.dirname(os.path.abspath(path)))], scalars=False)
        out: dict = {}
        for r in runs:
            if r["operation"] not in out and r["guildfile"] == os.path.abspath(path):
                out[r["operation"]] = r
        return {op: query.with_scalars(r) for op, r in out.items()}
    except Exception:
        log.exception("reading runs for code lenses")
        return {}


def _last_run_suffix(history: dict, operation: str) -> str:
    import time

    from ..runs import query

    r = history.get(operation)
    return f" · {query.run_summary(r, time.time())}" if r is not None else ""


# ---------------------------------------------------------------------------------------
# runs


class ActiveRun:
    """One run started from the editor: the runner thread plus its client-side plumbing."""

    def __init__(self, ls, loop: asyncio.AbstractEventLoop, run_id: str, uri: str, plan,
                 project_dir: str, path: Optional[str]):
        from ..executor.runner import Runner

        self.ls = ls
        self.loop = loop
        self.run_id = run_id
        self.uri = uri
        self.plan = plan
        self.token = f"guildls-run-{run_id}"
        self.progress_ready = False
        self.progress_done = False
        self.last_progress: Optional[tuple] = None
        self.finished = False
        self.stop_requested = False  # the user stopped it: "stopped", not "terminated (exit -15)"
        self._buf: List[str] = []
        self._buf_lock = threading.Lock()
        self._flush_scheduled = False
        self._step_node: Optional[str] = None
        self._step_runs: Dict[str, str] = {}
        self.runner = Runner(plan, project_dir, path, run_id=run_id,
                             on_output=self._on_output, on_event=self._on_event)
        self.thread = threading.Thread(target=self._work, name=f"guildls-run-{run_id[:8]}",
                                       daemon=True)

    # -- thread side ---------------------------------------------------------------------
    def _work(self):
        try:
            result = self.runner.run()
            payload = {"runId": self.run_id, "exitCode": result.exit_code,
                       "status": result.status,
                       "runs": [_run_json(r) for r in result.runs]}
            if result.message:  # e.g. a missing GUILD_HOME: said nowhere else
                payload["error"] = f"guild: {result.message}"
                self._on_output(None, "stderr", f"guild: {result.message}\n")
        except Exception as e:  # never let a runner bug pass silently
            log.exception("run failed")
            payload = {"runId": self.run_id, "exitCode": 1, "status": "error",
                       "error": f"internal error: {e!r}", "runs": []}
        self._call(self._finished, payload)

    def _call(self, fn, *args):
        try:
            self.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # loop closed (server shutting down)
            pass

    def _on_output(self, run_id, stream, text):
        with self._buf_lock:
            self._buf.append(text)
            if self._flush_scheduled:
                return
            self._flush_scheduled = True
        try:
            self.loop.call_soon_threadsafe(self.loop.call_later, OUTPUT_FLUSH_DELAY, self._flush)
        except RuntimeError:
            pass

    def _on_event(self, ev: dict):
        kind = ev.get("type")
        if kind == "step-started":
            msg = f"step {ev['index']} of {ev['total']}: {ev['name']}"
            pct = int(100 * (ev["index"] - 1) / max(1, ev["total"]))
            self._call(self._progress, msg, pct)
            # graph node ids (executor/graph.py) count steps depth-first like `index`
            self._step_node = f"step-{ev['index']}"
            self._call(self._step_status, {"runId": self.run_id, "step": self._step_node,
                                           "status": "running"})
        elif kind == "run-started" and ev.get("parentId") and self._step_node:
            self._step_runs[ev["runId"]] = self._step_node
            self._step_node = None
            self._call(self._step_status, {"runId": self.run_id, "step": self._step_runs[ev["runId"]],
                                           "stepRunId": ev["runId"], "status": "running"})
        elif kind == "run-finished" and ev.get("runId") in self._step_runs:
            self._call(self._step_status, {"runId": self.run_id, "step": self._step_runs[ev["runId"]],
                                           "stepRunId": ev["runId"], "status": ev.get("status") or "error"})

    def _step_status(self, payload: dict):
        try:
            self.ls.protocol.notify(N_STEP_STATUS, payload)
        except Exception:
            log.exception("sending step status")

    # -- loop side -----------------------------------------------------------------------
    def _flush(self):
        with self._buf_lock:
            text = "".join(self._buf)
            self._buf.clear()
            self._flush_scheduled = False
        if not text:
            return
        try:
            self.ls.protocol.notify(N_OUTPUT, {"runId": self.run_id, "text": text})
            for i in range(0, len(text), MAX_LOG_CHUNK):
                self.ls.window_log_message(types.LogMessageParams(
                    type=types.MessageType.Log, message=text[i:i + MAX_LOG_CHUNK].rstrip("\n")))
        except Exception:
            log.exception("sending run output")

    def _progress(self, message: str, pct: int):
        self.last_progress = (message, pct)
        if self.progress_ready and not self.progress_done:
            self.ls.work_done_progress.report(self.token, types.WorkDoneProgressReport(
                message=message, percentage=pct, cancellable=True))

    async def start_progress(self):
        caps = getattr(self.ls, "client_capabilities", None)
        window = getattr(caps, "window", None) if caps is not None else None
        if not getattr(window, "work_done_progress", False):
            return
        try:
            await self.ls.work_done_progress.create_async(self.token)
        except Exception:
            return
        if self.finished:
            self.ls.work_done_progress.tokens.pop(self.token, None)
            return
        fut = self.ls.work_done_progress.tokens.get(self.token)
        if fut is not None:
            fut.add_done_callback(lambda f: f.cancelled() and self.stop())
        msg, pct = self.last_progress or ("starting", 0)
        self.ls.work_done_progress.begin(self.token, types.WorkDoneProgressBegin(
            title=f"guild run {self.plan.opspec}", message=msg, percentage=pct, cancellable=True))
        self.progress_ready = True

    def _finished(self, payload: dict):
        self._flush()
        self.finished = True
        if self.progress_ready and not self.progress_done:
            self.progress_done = True
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(
                message=self.outcome(payload)))
        self.ls.work_done_progress.tokens.pop(self.token, None)
        try:
            self.ls.protocol.notify(N_FINISHED, payload)
            ok = payload["exitCode"] == 0 or self.stop_requested
            level = types.MessageType.Info if ok else types.MessageType.Error
            why = f": {payload['error']}" if payload.get("error") else ""
            self.ls.window_log_message(types.LogMessageParams(
                type=level, message=f"guildls: {self.plan.opspec} {self.outcome(payload)} "
                                    f"(run {self.run_id[:8]}){why}"))
            if not _has_run_notifications(self.ls):
                self.ls.window_show_message(types.ShowMessageParams(
                    type=level, message=f"'{self.plan.opspec}' {self.outcome(payload)}{why}"))
        finally:
            _active.pop(self.run_id, None)
            _refresh_lenses(self.ls)


    def outcome(self, payload: dict) -> str:
        """How the run ended, in words for the editor."""
        if self.stop_requested and payload.get("status") == "terminated":
            return "stopped"
        if payload.get("exitCode") == 0:
            return payload.get("status") or "completed"
        return f"{payload.get('status') or 'error'} (exit code {payload.get('exitCode')})"

    def stop(self) -> bool:
        self.stop_requested = True
        return self.runner.stop()


# Clients that handle guildls/runStarted and guildls/runFinished themselves (the guildls
# VS Code extension); others hear of a lens run's start and end through window/showMessage.
_NOTIFIED_CLIENTS = ("Visual Studio Code", "VSCodium", "Code - OSS", "code-server")


def _has_run_notifications(ls) -> bool:
    name = getattr(ls, "client_name", "") or ""
    return any(n in name for n in _NOTIFIED_CLIENTS)


# lines of Guild's messages that are advice for its command line
_CLI_ADVICE = ("Try 'guild", "Run the command again")


def editor_message(e) -> str:
    """A PlanError for the editor: Guild's words on one line, without command-line advice."""
    lines = [ln.strip() for ln in str(e.message).split("\n")
             if ln.strip() and not ln.strip().startswith(_CLI_ADVICE)]
    if not lines:
        lines = [str(e.message).strip()]
    text = lines[0] + (" " + ", ".join(lines[1:]) if len(lines) > 1 else "")
    return f"{e.where}: {text}" if getattr(e, "where", None) else text


def _refresh_lenses(ls) -> None:
    """Ask the client to re-request code lenses (Run <-> Stop), if it supports that."""
    caps = getattr(ls, "client_capabilities", None)
    ws = getattr(caps, "workspace", None) if caps is not None else None
    cl = getattr(ws, "code_lens", None) if ws is not None else None
    if not getattr(cl, "refresh_support", False):
        return
    try:
        ls.workspace_code_lens_refresh(None)
    except Exception:
        log.debug("codeLens refresh failed", exc_info=True)


def _run_json(r) -> dict:
    return {"id": r.id, "name": r.name, "operation": r.operation, "status": r.status,
            "exitStatus": r.exit_status,
            "duration": None if r.duration is None else round(r.duration, 3),
            "depth": r.depth, "skipped": r.skipped}


def stop_all():
    for run in list(_active.values()):
        run.runner.stop(wait=True)  # at exit: SIGKILL the stragglers before the process ends


atexit.register(stop_all)


# ---------------------------------------------------------------------------------------
# registration


def register(server):
    """Register code lenses and the run commands on `server` (a pygls 2.x LanguageServer)."""

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    async def _code_lens(ls, params: types.CodeLensParams):
        uri = params.text_document.uri
        try:
            history = await asyncio.get_running_loop().run_in_executor(None, last_runs, uri)
            return code_lenses(ls, uri, history)
        except Exception:
            log.exception("code lenses failed")
            return []

    @server.command(CMD_PLAN)
    def _show_plan(ls, *args):
        a = _args(args)
        plan, _gf, _pd, _path = build_plan_for(ls, a, refuse_errors=False)
        return {"text": plan.to_text(), "plan": plan.to_json()}

    @server.command(CMD_RUN)
    async def _run_workflow(ls, *args):
        a = _args(args)
        plan, gf, project_dir, path = build_plan_for(ls, a)
        run_id = uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        active = ActiveRun(ls, loop, run_id, a["uri"], plan, project_dir, path)
        active.guildfile = gf  # keeps the model alive (and intact) while the run uses it
        _active[run_id] = active
        from ..runs import runs_dir

        ls.protocol.notify(N_STARTED, {"runId": run_id, "operation": plan.opspec,
                                       "uri": a["uri"], "runsDir": runs_dir(project_dir),
                                       "steps": plan.count()})
        ls.window_log_message(types.LogMessageParams(
            type=types.MessageType.Info, message=f"guildls: running {plan.opspec} (run {run_id[:8]})"))
        if not _has_run_notifications(ls):
            ls.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Info, message=f"Running '{plan.opspec}' (run {run_id[:8]})"))
        active.thread.start()
        loop.create_task(active.start_progress())
        _refresh_lenses(ls)
        return {"runId": run_id}

    @server.command(CMD_STOP)
    def _stop_run(ls, *args):
        a = _args(args)
        rid = a.get("runId")
        if not isinstance(rid, str):
            raise _refuse("expected 'runId': the id of a run (a string)", INVALID_PARAMS)
        run = _active.get(rid)
        if run is None:
            return {"stopped": False}
        return {"stopped": run.stop()}

    return server
