"""Document links: `main:` to the module's file, `file:` and `config:` sources, `include:`.

``document_links(gf)`` returns ``(range, path)`` pairs for targets that exist on disk
(code-point ranges; the LSP layer converts them and makes file URIs).
"""

from __future__ import annotations

import os
from typing import Iterator, List, Optional, Tuple

from ..model.guildfile import Guildfile, Source
from ..model.nodes import MAP, SCALAR, SEQ, Node, Range
from ..model.scriptflags import module_source


def _local_str(n: Optional[Node]) -> bool:
    return n is not None and n.local and n.kind == SCALAR and isinstance(n.value, str) and bool(n.value.strip())


def _word_range(gf: Guildfile, n: Node, word: str) -> Range:
    """The range of ``word`` at the start of the scalar ``n`` (quotes skipped)."""
    r = n.range
    if r.start_line == r.end_line and r.start_line < len(gf.lines):
        text = gf.lines[r.start_line][r.start_col:r.end_col]
        i = text.find(word)
        if i >= 0:
            return Range(r.start_line, r.start_col + i, r.start_line, r.start_col + i + len(word))
    return r


def _file(base: str, rel: str) -> Optional[str]:
    if "${" in rel or any(c in rel for c in "*?["):
        return None
    p = os.path.normpath(os.path.join(base, os.path.expanduser(rel)))
    return p if os.path.isfile(p) else None


def _sources(gf: Guildfile) -> Iterator[Source]:
    for model in list(gf.models.values()) + list(gf.configs.values()):
        for r in model.resources.values():
            yield from r.sources
        for op in model.operations.values():
            for dep in op.requires:
                yield from dep.sources


def document_links(gf: Guildfile) -> List[Tuple[Range, str]]:
    if not gf.path or gf.root is None:
        return []
    base = gf.dir
    out: List[Tuple[Range, str]] = []
    seen = set()

    def add(rng: Range, path: Optional[str]):
        if path is not None and (rng, path) not in seen:
            seen.add((rng, path))
            out.append((rng, path))

    for model in list(gf.models.values()) + list(gf.configs.values()):
        for op in model.operations.values():
            n = op.attr("main")
            if not _local_str(n) or "${" in n.value:
                continue
            module = n.value.split()[0].strip("'\"")
            add(_word_range(gf, n, module), module_source(base, module))
    for s in _sources(gf):
        if s.kind in ("file", "config") and _local_str(s.spec_node):
            add(s.spec_node.range, _file(base, s.spec_node.value))
    if gf.root.kind == SEQ:
        for item in gf.root.value:
            inc = item.get("include") if item.kind == MAP else None
            if inc is None:
                continue
            for n in ([inc] if inc.kind == SCALAR else inc.value if inc.kind == SEQ else []):
                if not _local_str(n):
                    continue
                target = os.path.normpath(os.path.join(base, n.value))
                if os.path.isdir(target):
                    target = next((os.path.join(target, c) for c in ("guild.yml", "guild.yaml")
                                   if os.path.isfile(os.path.join(target, c))), target)
                add(n.range, target if os.path.isfile(target) else None)
    out.sort(key=lambda x: (x[0].start_line, x[0].start_col))
    return out
