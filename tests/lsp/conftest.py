"""Shared pytest-lsp fixture: guildls started over stdio as a real subprocess."""

import sys

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "guildls", "serve"]),
)
async def client(lsp_client: LanguageClient):
    params = types.InitializeParams(
        capabilities=types.ClientCapabilities(
            window=types.WindowClientCapabilities(work_done_progress=True),
        ),
        initialization_options={"debounce": 50},
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()
