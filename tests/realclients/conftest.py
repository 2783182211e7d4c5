"""The real-editor tests (VS Code via code-server, Neovim) install editors and
browsers, so they run through `make test-client` (which sets
GUILDLS_REALCLIENTS=1); a plain `pytest` run reports them as skipped, with
that reason (tests/conftest.py)."""
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # pytest runs with --import-mode=importlib


@pytest.fixture(scope="session")
def out_root() -> Path:
    """test-output/ at the repo root: screenshots, result.json, logs."""
    out = HERE.parents[1] / "test-output"
    out.mkdir(exist_ok=True)
    return out


def pytest_terminal_summary(terminalreporter):
    util = sys.modules.get("realclients_util")
    if util is not None and util.REPORT:
        terminalreporter.section("real clients: what the editors saw")
        for line in util.REPORT:
            terminalreporter.write_line(line)
