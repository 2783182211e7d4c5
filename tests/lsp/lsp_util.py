"""Helpers shared by the LSP tests."""

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
