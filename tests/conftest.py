"""Suite-wide: the folders that run only through their own make target, and tests/ on
sys.path for the helpers shared across folders (pytest runs with --import-mode=importlib)."""
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# folder: (variable its make target sets, why a plain `pytest` run skips it)
OPT_IN = {
    "packaging": ("GUILDLS_PACKAGING", "packaging tests run through `make test-packaging` (GUILDLS_PACKAGING=1)"),
    "realclients": ("GUILDLS_REALCLIENTS", "real-editor tests run through `make test-client` (GUILDLS_REALCLIENTS=1)"),
}


def pytest_collection_modifyitems(config, items):
    for folder, (var, reason) in OPT_IN.items():
        if os.environ.get(var) == "1":
            continue
        where = HERE / folder
        skip = pytest.mark.skip(reason=reason)
        for item in items:
            if where in Path(str(item.fspath)).resolve().parents:
                item.add_marker(skip)
