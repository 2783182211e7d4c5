"""Bounded "did you mean": the same answers as :func:`difflib.get_close_matches` on
small candidate sets, and work linear in the document on large ones.

``difflib`` compares the name with every candidate: a file with thousands of
operations and thousands of misspelled steps spends minutes there. Past
``SMALL`` candidates the candidates come from a deletion index instead (SymSpell:
every candidate is filed under itself and each string it gives with one character
deleted, so one lookup per deletion of the name finds every candidate within an
edit or two), and only those are ranked by difflib's ratio. The index is built
once per candidate collection and reused while that collection is unchanged.
"""

from __future__ import annotations

import difflib
from collections import OrderedDict
from typing import Dict, Iterable, List, Set

SMALL = 200  # up to this many candidates: difflib's exhaustive search
MAX_NAME = 64  # longer names are not typos worth a search (and would cost per character)
CUTOFF = 0.6
MAX_RANKED = 10  # candidates from the index ranked by difflib's ratio
_CACHE_SIZE = 8
_cache: "OrderedDict[int, tuple]" = OrderedDict()
_QUICK_CACHE_SIZE = 8192
_quick_cache: Dict[tuple, List[str]] = {}


def _deletions(word: str) -> Set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _index(cands: Sequence[str]) -> Dict[str, List[str]]:
    idx: Dict[str, List[str]] = {}
    for c in cands:
        if not isinstance(c, str) or len(c) > MAX_NAME:
            continue
        idx.setdefault(c, []).append(c)
        for d in _deletions(c):
            idx.setdefault(d, []).append(c)
    return idx


def _cached_index(names: tuple) -> Dict[str, List[str]]:
    """The index of ``names``, reused for the same names (the candidates of a document
    are asked about again and again: each operation of a model, each flag of an op)."""
    key = hash(names)
    hit = _cache.get(key)
    if hit is not None and hit[0] == names:
        _cache.move_to_end(key)
        return hit[1]
    idx = _index(names)
    _cache[key] = (names, idx)
    if len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return idx


def _quick_pass(name: str, cands: tuple, exclude: tuple) -> List[str]:
    """The candidates that pass difflib's two cheap bounds against ``name``
    (``real_quick_ratio`` and ``quick_ratio`` >= CUTOFF), in candidate order: what
    ``get_close_matches`` would go on to rank, so ranking only these gives its answer.

    Both bounds depend only on the multiset of the name's characters (its length and how
    often each character occurs), so the list is remembered by that: a mapping with
    60,000 unknown keys ``k0`` ... ``k59999`` has fewer than 3,000 such multisets."""
    key = ("".join(sorted(name)), cands, exclude)
    hit = _quick_cache.get(key)
    if hit is not None:
        return hit
    skip = set(exclude)
    sm = difflib.SequenceMatcher()
    sm.set_seq2(name)
    out = []
    for c in dict.fromkeys(cands):
        if c in skip or not isinstance(c, str):
            continue
        sm.set_seq1(c)
        if sm.real_quick_ratio() >= CUTOFF and sm.quick_ratio() >= CUTOFF:
            out.append(c)
    if len(_quick_cache) >= _QUICK_CACHE_SIZE:
        _quick_cache.clear()
    _quick_cache[key] = out
    return out


def suggest(name: str, candidates: Iterable[str], n: int = 3, exclude: Iterable[str] = ()) -> List[str]:
    """Up to ``n`` candidates close to ``name`` (best first), never ``name`` itself nor
    anything in ``exclude``."""
    cands = tuple(candidates)
    if len(cands) <= SMALL and isinstance(name, str):
        pool = [c for c in _quick_pass(name, cands, tuple(exclude)) if c != name]
        return difflib.get_close_matches(name, pool, n=n, cutoff=CUTOFF) if pool else []
    skip = set(exclude)
    skip.add(name)
    if len(cands) <= SMALL:
        pool = [c for c in dict.fromkeys(cands) if c not in skip and isinstance(c, str)]
        return difflib.get_close_matches(name, pool, n=n, cutoff=CUTOFF)
    if not isinstance(name, str) or len(name) > MAX_NAME:
        return []
    idx = _cached_index(cands)
    found: Dict[str, None] = {}
    near = _deletions(name) | {name}
    rounds = [near]
    if len(name) <= 24:  # two deletions from the name: still a handful of lookups
        rounds.append({d2 for d in near for d2 in _deletions(d)} - near)
    for keys in rounds:  # the nearest first; rank at most MAX_RANKED with difflib
        for key in keys:
            for c in idx.get(key, ()):
                if c not in skip:
                    found[c] = None
        if len(found) >= MAX_RANKED:
            break
    if not found:
        return []
    return difflib.get_close_matches(name, list(found)[:MAX_RANKED], n=n, cutoff=CUTOFF)


def did_you_mean(sugs: List[str]) -> str:
    if not sugs:
        return ""
    return " (did you mean " + " or ".join(f"'{s}'" for s in sugs) + "?)"
