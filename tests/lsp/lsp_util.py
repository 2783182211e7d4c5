"""Helpers shared by the LSP tests."""

import asyncio
import sys

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient


def client_named(name):
    """A pytest-lsp fixture: guildls over stdio, initialized by a client that calls itself ``name``."""
    @pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "guildls", "serve"]))
    async def fixture(lsp_client: LanguageClient):
        await lsp_client.initialize_session(types.InitializeParams(
            capabilities=types.ClientCapabilities(), client_info=types.ClientInfo(name=name)))
        yield
        await lsp_client.shutdown_session()
    return fixture


def _plain(obj):
    if hasattr(obj, "_asdict"):  # pygls turns unknown notification params into namedtuples
        return _plain(obj._asdict())
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if hasattr(obj, "__dict__") and not isinstance(obj, (str, int, float, bool)):
        return _plain(vars(obj))
    return obj


def record_publishes(client: LanguageClient) -> list:
    """Every textDocument/publishDiagnostics the client receives from now on, in order (its
    params: uri, version, diagnostics). pytest-lsp's wait_for_notification resolves one waiter
    per notification: a second publish read in the same chunk (a busy machine) is seen by
    nobody waiting, so waits on a version read this log instead. Installed once per client."""
    log = getattr(client, "_guildls_publishes", None)
    if log is None:
        log = client._guildls_publishes = []
        features = client.protocol.fm.features
        inner = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

        def recording(params):
            log.append(params)
            return inner(params)
        features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = recording
    return log


async def wait_published(client: LanguageClient, uri: str, version=None, timeout: float = 120.0):
    """The diagnostics of the newest publish for ``uri`` (of ``version``, if given) recorded by
    record_publishes, waiting for it up to ``timeout`` seconds (a hang guard: generous, CI
    machines may be busy)."""
    log = record_publishes(client)

    def newest():
        for p in reversed(log):
            if p.uri == uri and (version is None or p.version == version):
                return list(p.diagnostics)
        return None

    return await until_published(
        client, newest, timeout, lambda: f"no diagnostics for {uri} version {version}: {[(p.uri, p.version) for p in log]}")


async def until_published(client: LanguageClient, check, timeout: float, why):
    """``check()``'s first value that is not None, checked again after each publishDiagnostics
    the client receives (and at least every second: pytest-lsp wakes one waiter per
    notification, so a wake-up can be missed; the state checked is what counts). Fails with
    ``why()`` after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        v = check()
        if v is not None:
            return v
        remaining = deadline - loop.time()
        assert remaining > 0, why()
        try:  # a wake-up only
            await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS),
                                   min(remaining, 1.0))
        except asyncio.TimeoutError:
            pass
