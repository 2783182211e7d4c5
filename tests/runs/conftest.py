"""Fixtures for the run reader tests (helpers in runs_util.py)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib

from runs_util import GUILD, Mixed, have_guild  # noqa: E402


@pytest.fixture(scope="session")
def mixed(tmp_path_factory):
    if not have_guild():
        pytest.skip(f"real Guild is not installed at {GUILD} (make oracle, or set GUILD_EXE)")
    return Mixed(tmp_path_factory.mktemp("mixed"))
