"""The language server: pygls wiring only.

Documents are parsed once per version into a Guildfile (cached), diagnostics are
published on open, save and (debounced) change. Editing features live in
``guildls.lsp.features`` and the run commands in ``guildls.lsp.run_commands``; both are
registered on the server here and read the cached model through ``guild_model``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import sys
from typing import Dict, List, Optional, Tuple

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from .. import __version__
from ..analysis.diagnostics import diagnose, limit
from ..model import Guildfile, Problem, load
from ..model.chunks import ChunkCache
from ..model.collector import collector_paused
from . import document, runs_commands
from .positions import Columns, encoding_of
from .protocol import GuildProtocol, report_quietly

log = logging.getLogger(__name__)

SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}

DEFAULT_DEBOUNCE = 0.15
# diagnostics published per document (VS Code shows at most 1,000 per file; `check` lists all)
DEFAULT_MAX_DIAGNOSTICS = 5000
# Above this many lines a parse takes tens of milliseconds or more (see bench/), so
# completion while typing uses the last parsed version (see guild_model_for_completion).
LARGE_DOCUMENT_LINES = 3000


class GuildServer(LanguageServer):
    def __init__(self):
        super().__init__("guildls", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         protocol_cls=GuildProtocol)
        self._models: Dict[str, Tuple[int, Guildfile]] = {}
        self._diags: Dict[str, Tuple[int, List[Problem]]] = {}
        # per document: the JSON text of each diagnostic last published (diagnostic_texts)
        self._diag_texts: Dict[str, dict] = {}
        # per open document: its top-level entries composed, by text (an edit inside one
        # operation composes that operation again, not the whole file)
        self._chunks: Dict[str, ChunkCache] = {}
        self._pending: Dict[str, asyncio.Task] = {}
        self.debounce = DEFAULT_DEBOUNCE
        self.max_diagnostics = DEFAULT_MAX_DIAGNOSTICS
        self._builds = 0
        self.client_name = ""
        self.severity_setting: Dict[str, str] = {}
        self._reported: set = set()

    def report_server_error(self, error, source):
        if not report_quietly(self, error, source):
            super().report_server_error(error, source)

    # -- the cached model ----------------------------------------------------------
    def guild_model(self, uri: str) -> Optional[Guildfile]:
        """The Guildfile of the document's current version (parsed once per version)."""
        try:
            doc = self.workspace.get_text_document(uri)
        except Exception:  # pragma: no cover - unknown uri
            return None
        try:
            path = to_fs_path(uri)
        except Exception:
            path = None
        if doc.version is None:
            # not open in the editor: pygls reads it from disk; never cache it (the file may
            # change), and a missing or undecodable file is no document
            try:
                return load(doc.source, path)
            except (OSError, UnicodeDecodeError):
                return None
        version = doc.version
        cached = self._models.get(uri)
        if cached is not None and cached[0] == version:
            return cached[1]
        chunks = self._chunks.get(uri)
        if chunks is None:
            chunks = self._chunks[uri] = ChunkCache()
        with collector_paused():  # the new model is frozen (_after_build) without a scan first
            gf = load(doc.source, path, chunks)
            old = cached[1] if cached is not None else None
            cached = None
            self._models[uri] = (version, gf)
            if old is not None:
                # `old` and getrefcount's argument are the only references left unless a
                # running workflow still uses that version
                if sys.getrefcount(old) <= 2:
                    old.dispose()
                old = None
            self._after_build()
        return gf

    def guild_model_for_completion(self, uri: str) -> Optional[Guildfile]:
        """The model to complete against while the user types.

        Small documents: the current version. Large ones: the last parsed version when
        the current one is not parsed yet; the cursor context is read from the current
        text and names are looked up in that model, which differs from the current one
        by at most the keystrokes since the last pause (the debounced check parses the
        new version then). A keystroke in a 5,000-operation file would otherwise wait
        for a full re-parse (about a second) before completion could answer."""
        cached = self._models.get(uri)
        if cached is not None:
            cached_version, cached_model = cached
            cached = None  # no extra reference: guild_model frees the old version at once
            try:
                doc = self.workspace.get_text_document(uri)
            except Exception:  # pragma: no cover
                return cached_model
            if doc.version is not None and cached_version != doc.version and len(doc.lines) > LARGE_DOCUMENT_LINES:
                if uri not in self._pending:
                    self.schedule_publish(uri)
                return cached_model
            cached_model = None
        return self.guild_model(uri)

    def _after_build(self):
        """Free a replaced model promptly and keep the live one out of GC scans.

        A model is a graph of ~200 objects per operation with back-references; left to the
        cyclic collector, each replaced version costs a full collection later (seen: 0.8 s
        at 5,000 operations, landing on whatever request comes next). So: break the cycles
        of the old version when nobody else holds it (a running workflow may), and freeze
        what is alive now, so that collections do not rescan the current model. Every so
        often the frozen set is released and collected once, in case anything cyclic was
        frozen along the way."""
        self._builds += 1
        if self._builds % 200 == 0:
            gc.unfreeze()
            gc.collect()
        gc.freeze()

    def guild_diagnostics(self, uri: str) -> List[Problem]:
        gf = self.guild_model(uri)
        if gf is None:
            return []
        entry = self._models.get(uri)
        version = entry[0] if entry is not None and entry[1] is gf else None
        entry = None
        cached = self._diags.get(uri)
        if version is not None and cached is not None and cached[0] == version:
            return cached[1]
        try:
            with collector_paused():
                problems = diagnose(gf, self.severity_for(gf.path))
                gc.freeze()  # kept with the model (see _after_build)
        except Exception as e:  # never let an analysis bug kill the server
            log.exception("diagnostics failed")
            self.window_log_message(types.LogMessageParams(types.MessageType.Error, f"guildls: internal error: {e!r}"))
            problems = []
        if version is not None:  # documents not open in the editor are not cached
            self._diags[uri] = (version, problems)
        return problems

    def severity_for(self, path: Optional[str]) -> Dict[str, str]:
        """Severity overrides: the editor's `guildls.severity` setting, then the project's
        `[tool.guildls]` in pyproject.toml (the project's choice wins, as in `guildls check`)."""
        from ..model.projectconfig import settings_for

        project = settings_for(path)
        for err in project.errors:
            if err not in self._reported:
                self._reported.add(err)
                self.window_log_message(types.LogMessageParams(types.MessageType.Warning, f"guildls: {err}"))
        if not self.severity_setting:
            return project.severity
        return {**self.severity_setting, **project.severity}

    def set_severity_setting(self, value, where: str):
        from ..model.projectconfig import parse_severity

        self.severity_setting, errors = parse_severity(value, where)
        for err in errors:
            self.window_log_message(types.LogMessageParams(types.MessageType.Warning, f"guildls: {err}"))

    def set_max_diagnostics(self, value, where: str) -> bool:
        """The `maxDiagnostics` setting: a whole number (below 1: no limit). A bad value is
        said in the log (never a popup) and the limit in force stays."""
        whole = value.__class__ is int or (value.__class__ is float and value.is_integer())
        if not whole:  # (a bool is no number here; infinity and NaN are no whole number)
            self.window_log_message(types.LogMessageParams(
                types.MessageType.Warning,
                f"guildls: {where}: expected a whole number, got {json.dumps(value)[:80]}; "
                f"keeping {self.max_diagnostics}"))
            return False
        self.max_diagnostics = int(value)
        return True

    def forget(self, uri: str):
        cached = self._models.pop(uri, None)
        old = cached[1] if cached is not None else None
        cached = None
        if old is not None and sys.getrefcount(old) <= 2:
            old.dispose()
        self._diags.pop(uri, None)
        self._diag_texts.pop(uri, None)
        self._chunks.pop(uri, None)
        task = self._pending.pop(uri, None)
        if task is not None:
            task.cancel()

    # -- files the model reads besides the document (scripts, included guild files) ---
    WATCHED = ("**/*.py", "**/*.{yml,yaml}", "**/pyproject.toml")

    def watch_files(self):
        """Ask the client to report changes of scripts and guild files (a flag read from a
        script, an included file): registered by the server when the client allows it."""
        caps = getattr(self, "client_capabilities", None)
        ws = getattr(caps, "workspace", None)
        dyn = getattr(getattr(ws, "did_change_watched_files", None), "dynamic_registration", None)
        if not dyn:
            return
        opts = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=g) for g in self.WATCHED])
        try:
            self.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
                id="guildls-watched-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=opts)]))
        except Exception:  # pragma: no cover - a client refusing is no reason to fail
            log.exception("could not register file watchers")

    def files_changed(self, uris: List[str]):
        """A script or guild file changed on disk: every open document is checked again
        against it (its model is rebuilt; script readings are cached per file version)."""
        for uri in list(self._models):
            entry = self._models.get(uri)
            if entry is not None:
                # a version no document has: the next request rebuilds the model
                self._models[uri] = (-1, entry[1])
            self._diags.pop(uri, None)
            self.schedule_publish(uri)

    # -- publishing ------------------------------------------------------------------
    def publish(self, uri: str):
        try:
            doc = self.workspace.get_text_document(uri)
        except Exception:  # pragma: no cover
            return
        problems = limit(self.guild_diagnostics(uri), self.max_diagnostics)
        gf = self.guild_model(uri)
        cols = Columns(gf.lines if gf is not None else [], encoding_of(self))
        texts, self._diag_texts[uri] = diagnostic_texts(problems, cols, self._diag_texts.get(uri),
                                                        self.protocol._serialize_message)
        params = '{"uri": ' + json.dumps(uri) + ', "diagnostics": [' + ", ".join(texts) + "]"
        if doc.version is not None:
            params += ', "version": ' + json.dumps(doc.version)
        self.protocol.notify_text(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, params + "}")

    def schedule_publish(self, uri: str, delay: Optional[float] = None):
        old = self._pending.pop(uri, None)
        if old is not None:
            old.cancel()
        delay = self.debounce if delay is None else delay

        async def later():
            try:
                await asyncio.sleep(delay)
                self._pending.pop(uri, None)
                self.publish(uri)
            except asyncio.CancelledError:
                pass

        try:
            self._pending[uri] = asyncio.get_running_loop().create_task(later())
        except RuntimeError:  # no running loop (tests calling directly)
            self.publish(uri)


def to_lsp_diagnostic(p: Problem, cols: Columns) -> types.Diagnostic:
    d = types.Diagnostic(
        range=cols.range(p.range),
        message=p.message,
        severity=SEVERITY.get(p.severity, types.DiagnosticSeverity.Warning),
        code=p.code,
        source="guildls",
        data=p.data if isinstance(p.data, (dict, list)) else None,
    )
    if p.code in ("ignored-attribute", "old-format"):
        d.tags = [types.DiagnosticTag.Unnecessary] if p.code == "ignored-attribute" else None
    return d


SEVERITY_NUMBER = {k: v.value for k, v in SEVERITY.items()}
UNNECESSARY = types.DiagnosticTag.Unnecessary.value


def diagnostic_json(p: Problem, cols: Columns) -> dict:
    """``to_lsp_diagnostic(p, cols)`` as the JSON object pygls would send for it, built
    directly: a document with 60,000 problems spent longer making the protocol objects and
    unstructuring them (cattrs) than checking the document (tests/lsp/test_publish_json.py
    compares the two)."""
    r = p.range
    d = {
        "range": {"start": {"line": r.start_line, "character": cols.to_client(r.start_line, r.start_col)},
                  "end": {"line": r.end_line, "character": cols.to_client(r.end_line, r.end_col)}},
        "message": p.message,
        "severity": SEVERITY_NUMBER.get(p.severity, SEVERITY_NUMBER["warning"]),
        "source": "guildls",
    }
    if p.code is not None:
        d["code"] = p.code
    if p.code == "ignored-attribute":
        d["tags"] = [UNNECESSARY]
    if isinstance(p.data, (dict, list)):
        d["data"] = p.data
    return d


def diagnostic_texts(problems: List[Problem], cols: Columns, last: Optional[dict], default=None):
    """-> (the JSON text of each problem's ``diagnostic_json``, the cache for next time).

    A one-line edit in a large document gives the same Problem objects as the version
    before for everything it did not touch (the checks remember them per operation): their
    text is taken from `last` when their range, the lines holding it and the encoding are
    the same (columns depend on nothing else). Serializing 2,000 diagnostics
    again cost ~15 ms per edit. `default`: json.dumps's hook for odd values in `data`, as
    pygls's."""
    lines = cols.lines
    n = len(lines)
    enc = cols.encoding
    old = last if last is not None and last.get("encoding") == enc else {}
    new = {"encoding": enc}
    out = []
    dumps = json.dumps
    for p in problems:
        r = p.range
        a = lines[r.start_line] if 0 <= r.start_line < n else None
        b = lines[r.end_line] if 0 <= r.end_line < n else None
        e = old.get(id(p))
        if e is not None and e[0] is p and e[4] == r and e[1] == a and e[2] == b:
            text = e[3]
        else:
            text = dumps(diagnostic_json(p, cols), default=default)
            # the problem stays alive with its entry: its id stays its own. Its range is
            # compared too: a remembered problem moves with its lines (model/chunks.py)
            e = (p, a, b, text, r)
        new[id(p)] = e
        out.append(text)
    return out, new


server = None


def create_server() -> GuildServer:
    ls = GuildServer()

    @ls.feature(types.INITIALIZE)
    def on_initialize(ls: GuildServer, params: types.InitializeParams):
        document.use_in(ls.workspace)  # edits cost what the edited lines cost
        info = params.client_info
        ls.client_name = info.name if info is not None and info.name else ""
        opts = params.initialization_options
        if isinstance(opts, dict) and isinstance(opts.get("debounce"), (int, float)):
            ls.debounce = max(0.0, float(opts["debounce"]) / 1000.0)
        if isinstance(opts, dict) and "severity" in opts:
            ls.set_severity_setting(opts["severity"], "setting guildls.severity")
        if isinstance(opts, dict) and "maxDiagnostics" in opts:
            ls.set_max_diagnostics(opts["maxDiagnostics"], "initialization option maxDiagnostics")
        poll = opts.get("runsPollInterval") if isinstance(opts, dict) else None
        ls.guild_start_runs_watch(ls, float(poll) / 1000.0 if isinstance(poll, (int, float))
                                  and not isinstance(poll, bool) else runs_commands.DEFAULT_POLL_INTERVAL)

    @ls.feature(types.INITIALIZED)
    def on_initialized(ls: GuildServer, params: types.InitializedParams):
        from ..speedups import missing

        for what in missing():  # a bundled server on a Python without its compiled wheels
            ls.window_log_message(types.LogMessageParams(types.MessageType.Warning, f"guildls: {what}"))
        ls.watch_files()  # scripts and guild files the documents depend on

    @ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: GuildServer, params: types.DidOpenTextDocumentParams):
        uri = params.text_document.uri
        ls.publish(uri)
        # split the lines now, once the diagnostics are out, rather than on the first
        # edit (the edit is applied to them: ~10 ms at 100,000 lines)
        with contextlib.suppress(Exception):
            ls.workspace.get_text_document(uri).lines

    @ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: GuildServer, params: types.DidChangeTextDocumentParams):
        ls.schedule_publish(params.text_document.uri)

    @ls.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: GuildServer, params: types.DidSaveTextDocumentParams):
        ls.schedule_publish(params.text_document.uri, 0)

    @ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: GuildServer, params: types.DidCloseTextDocumentParams):
        uri = params.text_document.uri
        ls.forget(uri)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @ls.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: GuildServer, params: types.DidChangeConfigurationParams):
        settings = params.settings
        sec = settings.get("guildls") if isinstance(settings, dict) else None
        if isinstance(sec, dict) and "severity" in sec:
            ls.set_severity_setting(sec["severity"], "setting guildls.severity")
            ls.files_changed([])
        if isinstance(sec, dict) and "maxDiagnostics" in sec:
            if ls.set_max_diagnostics(sec["maxDiagnostics"], "setting guildls.maxDiagnostics"):
                for uri in list(ls._models):
                    ls.schedule_publish(uri)

    @ls.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched(ls: GuildServer, params: types.DidChangeWatchedFilesParams):
        ls.files_changed([c.uri for c in params.changes])

    _register_extensions(ls)
    return ls


def _register_extensions(ls: GuildServer):
    from . import features, run_commands

    features.register(ls)
    run_commands.register(ls)
    runs_commands.register(ls)
    if os.environ.get("GUILDLS_TEST_COMMANDS") == "1":
        # tests and the fuzz harness compare the server's copy of a document with theirs
        @ls.command("guildls._documentText")
        def _document_text(ls: GuildServer, *args):
            uri = args[0] if args and isinstance(args[0], str) else None
            if uri is None or uri not in ls.workspace.text_documents:
                return None
            return ls.workspace.get_text_document(uri).source

        @ls.command("guildls._internals")
        def _internals(ls: GuildServer, *args):
            # sizes of the server's per-request and per-document tables (tests: they must
            # not grow with the number of edits)
            return {"requestFutures": len(ls.protocol._request_futures),
                    "resultTypes": len(ls.protocol._result_types),
                    "models": len(ls._models), "diagnostics": len(ls._diags), "chunks": len(ls._chunks),
                    "pending": len(ls._pending), "documents": len(ls.workspace.text_documents),
                    "tasks": len(asyncio.all_tasks())}

        @ls.command("guildls._memorySnapshot")
        def _memory_snapshot(ls: GuildServer, *args):
            # bench/edit_memory.py --trace: where the server's memory goes (tracemalloc
            # must be on from the start: PYTHONTRACEMALLOC=N in the server's environment)
            import tracemalloc

            path = args[0] if args and isinstance(args[0], str) else None
            if path is None or not tracemalloc.is_tracing():
                return None
            gc.collect()
            tracemalloc.take_snapshot().dump(path)
            return path


def serve():
    logging.basicConfig(level=logging.WARNING)
    global server
    server = create_server()
    if not gc.isenabled():  # off from `python -m guildls` until here: see cli.imports_settled
        gc.freeze()
        gc.enable()
    server.start_io()
