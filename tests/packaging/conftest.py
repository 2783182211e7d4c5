"""The packaging tests build every .vsix target and the Python wheel + sdist, fetching
wheels from the package registry, so they run through `make test-packaging` (part of
`make test`, which sets GUILDLS_PACKAGING=1); a plain `pytest` run reports them as
skipped, with that reason."""
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # pytest runs with --import-mode=importlib


def pytest_collection_modifyitems(config, items):
    if os.environ.get("GUILDLS_PACKAGING") == "1":
        return
    skip = pytest.mark.skip(reason="packaging tests run through `make test-packaging` (GUILDLS_PACKAGING=1)")
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)
