"""Shared pytest-lsp fixture: guildls started over stdio as a real subprocess."""

import os
import sys

import pytest

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # lsp_util (pytest runs with --import-mode=importlib)
from lsp_util import until_published  # noqa: E402


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
    def matching():
        got = client.diagnostics.get(uri)
        return list(got) if got is not None and pred(list(got)) else None

    return await until_published(client, matching, timeout,
                                 lambda: f"diagnostics never matched: {client.diagnostics.get(uri)}")


@pytest.fixture
def diags_when():
    """``await diags_when(client, uri, pred)``: wait until published diagnostics satisfy ``pred``."""
    return _diags_when
