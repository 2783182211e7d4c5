"""Project settings from ``pyproject.toml`` (``[tool.guildls]``), shared by the language
server and ``guildls check``::

    [tool.guildls]
    severity = { "unknown-flag" = "error", "undefined-reference" = "off" }

``settings_for(path)`` finds the nearest ``pyproject.toml`` above a guild file and returns
:class:`Settings` (cached per file version); a malformed table is reported in
``Settings.errors`` and ignored, never raised.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

try:  # Python 3.11+
    import tomllib as _toml
except ImportError:  # pragma: no cover - older Pythons: the `tomli` dependency
    try:
        import tomli as _toml  # type: ignore
    except ImportError:
        _toml = None

SEVERITIES = ("error", "warning", "information", "hint", "off")
MAX_BYTES = 1_000_000


@dataclass
class Settings:
    severity: Dict[str, str] = field(default_factory=dict)
    source: Optional[str] = None
    errors: List[str] = field(default_factory=list)


_cache: Dict[Tuple[str, int, int], Settings] = {}


def find_pyproject(start: str) -> Optional[str]:
    d = os.path.abspath(start)
    while True:
        p = os.path.join(d, "pyproject.toml")
        if os.path.isfile(p):
            return p
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def parse_severity(value, where: str) -> Tuple[Dict[str, str], List[str]]:
    """A ``{code: severity}`` mapping, checked: bad entries are reported and skipped."""
    out: Dict[str, str] = {}
    errors: List[str] = []
    if value is None:
        return out, errors
    if not isinstance(value, dict):
        return out, [f"{where}: severity must be a table of code = severity, got {type(value).__name__}"]
    for code, sev in value.items():
        s = sev.lower() if isinstance(sev, str) else sev
        if s is False or s == "none":
            s = "off"
        if s not in SEVERITIES:
            errors.append(f"{where}: severity of '{code}' must be one of {', '.join(SEVERITIES)}, got {sev!r}")
            continue
        out[str(code)] = s
    return out, errors


def settings_for(guildfile_path: Optional[str]) -> Settings:
    if not guildfile_path:
        return Settings()
    path = find_pyproject(os.path.dirname(os.path.abspath(guildfile_path)))
    if path is None:
        return Settings()
    try:
        st = os.stat(path)
    except OSError:
        return Settings()
    key = (path, st.st_mtime_ns, st.st_size)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    s = _read(path, st.st_size)
    if len(_cache) > 64:
        _cache.clear()
    _cache[key] = s
    return s


def _read(path: str, size: int) -> Settings:
    s = Settings(source=path)
    if _toml is None:
        s.errors.append(f"{path}: cannot read [tool.guildls]: no TOML reader (install tomli)")
        return s
    if size > MAX_BYTES:
        s.errors.append(f"{path}: too large to read [tool.guildls] ({size} bytes)")
        return s
    try:
        with open(path, "rb") as f:
            data = _toml.load(f)
    except (OSError, ValueError) as e:  # TOMLDecodeError is a ValueError
        s.errors.append(f"{path}: cannot read [tool.guildls]: {e}")
        return s
    tool = data.get("tool", {}).get("guildls") if isinstance(data.get("tool"), dict) else None
    if tool is None:
        return s
    if not isinstance(tool, dict):
        s.errors.append(f"{path}: [tool.guildls] must be a table")
        return s
    s.severity, errs = parse_severity(tool.get("severity"), f"{path}: [tool.guildls]")
    s.errors.extend(errs)
    return s
