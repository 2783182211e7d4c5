"""The language server: pygls wiring only.

Documents are parsed once per version into a Guildfile (cached), diagnostics are
published on open, save and (debounced) change. Editing features live in
``guildls.lsp.features`` and the run commands in ``guildls.lsp.run_commands``; both are
registered on the server here and read the cached model through ``guild_model``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Dict, List, Optional, Tuple

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from .. import __version__
from ..analysis.diagnostics import diagnose
from ..model import Guildfile, Problem, load
from .positions import to_lsp_range

log = logging.getLogger(__name__)

SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}

DEFAULT_DEBOUNCE = 0.15


class GuildServer(LanguageServer):
    def __init__(self):
        super().__init__("guildls", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self._models: Dict[str, Tuple[int, Guildfile]] = {}
        self._diags: Dict[str, Tuple[int, List[Problem]]] = {}
        self._pending: Dict[str, asyncio.Task] = {}
        self.debounce = DEFAULT_DEBOUNCE

    # -- the cached model ----------------------------------------------------------
    def guild_model(self, uri: str) -> Optional[Guildfile]:
        """The Guildfile of the document's current version (parsed once per version)."""
        try:
            doc = self.workspace.get_text_document(uri)
        except Exception:  # pragma: no cover - unknown uri
            return None
        version = doc.version if doc.version is not None else -1
        cached = self._models.get(uri)
        if cached is not None and cached[0] == version:
            return cached[1]
        try:
            path = to_fs_path(uri)
        except Exception:
            path = None
        gf = load(doc.source, path)
        self._models[uri] = (version, gf)
        return gf

    def guild_diagnostics(self, uri: str) -> List[Problem]:
        gf = self.guild_model(uri)
        if gf is None:
            return []
        version = self._models[uri][0]
        cached = self._diags.get(uri)
        if cached is not None and cached[0] == version:
            return cached[1]
        try:
            problems = diagnose(gf)
        except Exception as e:  # never let an analysis bug kill the server
            log.exception("diagnostics failed")
            self.window_log_message(types.LogMessageParams(types.MessageType.Error, f"guildls: internal error: {e!r}"))
            problems = []
        self._diags[uri] = (version, problems)
        return problems

    def forget(self, uri: str):
        self._models.pop(uri, None)
        self._diags.pop(uri, None)
        task = self._pending.pop(uri, None)
        if task is not None:
            task.cancel()

    # -- publishing ------------------------------------------------------------------
    def publish(self, uri: str):
        try:
            doc = self.workspace.get_text_document(uri)
        except Exception:  # pragma: no cover
            return
        problems = self.guild_diagnostics(uri)
        gf = self.guild_model(uri)
        lines = gf.lines if gf is not None else []
        diags = [to_lsp_diagnostic(p, lines) for p in problems]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, version=doc.version, diagnostics=diags))

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


def to_lsp_diagnostic(p: Problem, lines) -> types.Diagnostic:
    d = types.Diagnostic(
        range=to_lsp_range(p.range, lines),
        message=p.message,
        severity=SEVERITY.get(p.severity, types.DiagnosticSeverity.Warning),
        code=p.code,
        source="guildls",
        data=p.data if isinstance(p.data, (dict, list)) else None,
    )
    if p.code in ("ignored-attribute", "old-format"):
        d.tags = [types.DiagnosticTag.Unnecessary] if p.code == "ignored-attribute" else None
    return d


server = None


def create_server() -> GuildServer:
    ls = GuildServer()

    @ls.feature(types.INITIALIZE)
    def on_initialize(ls: GuildServer, params: types.InitializeParams):
        opts = params.initialization_options
        if isinstance(opts, dict) and isinstance(opts.get("debounce"), (int, float)):
            ls.debounce = max(0.0, float(opts["debounce"]) / 1000.0)

    @ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: GuildServer, params: types.DidOpenTextDocumentParams):
        ls.publish(params.text_document.uri)

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

    _register_extensions(ls)
    return ls


def _register_extensions(ls: GuildServer):
    from . import features, run_commands

    features.register(ls)
    run_commands.register(ls)


def serve():
    logging.basicConfig(level=logging.WARNING)
    global server
    server = create_server()
    server.start_io()
