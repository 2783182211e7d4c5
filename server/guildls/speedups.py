"""Which compiled accelerators this interpreter runs without (pure-Python stand-ins).

guildls works with every dependency in pure Python, only slower: the VS Code extension's
universal package, and a platform package on a CPython it has no wheels for, carry
PyYAML without libyaml and rpds-py's API over pyrsistent. The server logs what is missing
when a client connects.
"""
from __future__ import annotations


def missing() -> list:
    """One sentence per compiled accelerator that is not in use, [] when all are."""
    out = []
    try:
        import yaml

        if not getattr(yaml, "__with_libyaml__", False):
            out.append("PyYAML runs without libyaml (no compiled _yaml for this Python): "
                       "guild files parse several times slower")
    except ImportError:  # pragma: no cover - a dependency
        out.append("PyYAML is missing")
    try:
        import rpds

        if getattr(rpds, "is_pure_pyrsistent_as_rpds", False):
            out.append("rpds-py is replaced by pure-Python pyrsistent (no compiled rpds-py for this "
                       "Python): schema checks are slower")
    except ImportError:  # pragma: no cover - a dependency
        out.append("rpds-py is missing: schema checks fail")
    return out
