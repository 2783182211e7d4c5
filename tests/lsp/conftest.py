"""Shared pytest-lsp fixture: guildls started over stdio as a real subprocess."""

import asyncio
import sys

import pytest

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


async def _diags_when(client, uri, pred, timeout=30.0):
    """The diagnostics of ``uri`` once ``pred`` holds for them (waits for publications)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        got = client.diagnostics.get(uri)
        if got is not None and pred(list(got)):
            return list(got)
        remaining = deadline - loop.time()
        assert remaining > 0, f"diagnostics never matched: {got}"
        try:
            await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), remaining)
        except asyncio.TimeoutError:
            pass


@pytest.fixture
def diags_when():
    """``await diags_when(client, uri, pred)``: wait until published diagnostics satisfy ``pred``."""
    return _diags_when
