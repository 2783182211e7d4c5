"""The packaging tests build every .vsix target and the Python wheel + sdist, fetching
wheels from the package registry, so they run through `make test-packaging` (part of
`make test`, which sets GUILDLS_PACKAGING=1); a plain `pytest` run reports them as
skipped, with that reason (tests/conftest.py)."""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # pytest runs with --import-mode=importlib
