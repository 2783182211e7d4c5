"""Hashable keys for memoizing checks on small plain values (YAML-loaded data)."""

from __future__ import annotations

from typing import Any, Optional


def freeze(v: Any, depth: int = 0) -> Optional[tuple]:
    """A hashable key for a small plain value, ``None`` when not worth it (large, deep or
    exotic). Types are part of the key: ``1``, ``1.0`` and ``True`` are equal in Python
    but not to Guild's checks."""
    if isinstance(v, (str, int, float, bool)) or v is None:
        return (type(v), v)
    if depth > 2:
        return None
    if isinstance(v, list) and len(v) <= 16:
        items = tuple(freeze(x, depth + 1) for x in v)
        return None if None in items else ("l",) + items
    if isinstance(v, dict) and len(v) <= 16:
        items = tuple((k, freeze(x, depth + 1)) for k, x in v.items() if isinstance(k, str))
        if len(items) != len(v) or any(x is None for _, x in items):
            return None
        return ("d",) + items
    return None
