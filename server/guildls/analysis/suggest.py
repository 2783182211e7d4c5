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
from typing import Dict, Iterable, List, Sequence, Set

SMALL = 200  # up to this many candidates: difflib's exhaustive search
MAX_NAME = 64  # longer names are not typos worth a search (and would cost per character)
CUTOFF = 0.6
MAX_RANKED = 10  # candidates from the index ranked by difflib's ratio
_CACHE_SIZE = 8
_cache: "OrderedDict[int, tuple]" = OrderedDict()


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
    """The index of ``names``, reused for the same names (the next version of a document
    has mostly the same operations and flags)."""
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


# The candidate collections of the current analysis pass, by identity: a document's
# thousand misspelled steps ask about the same `model.operations` a thousand times, and
# even hashing its names each time would make the pass quadratic. Entries hold the
# collection (so its id cannot be reused) until :func:`release` at the end of the pass.
_by_id: "OrderedDict[int, tuple]" = OrderedDict()
_BY_ID_SIZE = 64


def _index_of(candidates) -> Dict[str, List[str]]:
    key = id(candidates)
    hit = _by_id.get(key)
    if hit is not None and hit[0] is candidates and hit[1] == len(candidates):
        return hit[2]
    idx = _cached_index(tuple(candidates))
    _by_id[key] = (candidates, len(candidates), idx)
    if len(_by_id) > _BY_ID_SIZE:
        _by_id.popitem(last=False)
    return idx


# The work of one analysis pass, in candidates compared (~10 µs each): a search of a
# small set compares each of its candidates, one of the index about INDEX_COST. Past the
# budget a name gets no suggestion (it is still reported): a file with thousands of
# misspelled names gets suggestions for the first 250 (or 50 against 200 operations), in about 0.1 s, where
# 3,000 names against 200 operations took 6 s.
BUDGET = 10_000
INDEX_COST = 40
_spent = 0


def release() -> None:
    """End of an analysis pass: forget its collections (they belong to a model that may
    be freed) and start the next pass with a whole budget."""
    global _spent
    _by_id.clear()
    _spent = 0


def _charge(units: int) -> bool:
    """Spend ``units`` of the pass's budget; False (nothing spent) when it is used up."""
    global _spent
    if _spent >= BUDGET:
        return False
    _spent += units
    return True


def suggest(name: str, candidates: Iterable[str], n: int = 3, exclude: Iterable[str] = ()) -> List[str]:
    """Up to ``n`` candidates close to ``name`` (best first), never ``name`` itself nor
    anything in ``exclude``."""
    if not hasattr(candidates, "__len__"):
        candidates = tuple(candidates)
    if len(candidates) <= SMALL:
        if not _charge(len(candidates)):
            return []
        skip = set(exclude)
        skip.add(name)
        pool = [c for c in dict.fromkeys(candidates) if c not in skip and isinstance(c, str)]
        return difflib.get_close_matches(name, pool, n=n, cutoff=CUTOFF)
    if not isinstance(name, str) or len(name) > MAX_NAME or not _charge(INDEX_COST):
        return []
    skip = set(exclude)
    skip.add(name)
    idx = _index_of(candidates)
    found: Dict[str, int] = {}
    near = _deletions(name) | {name}
    rounds = [near]
    if len(name) <= 24:  # two deletions from the name: still a handful of lookups
        rounds.append({d2 for d in near for d2 in _deletions(d)} - near)
    for r, keys in enumerate(rounds):  # the nearest first; rank at most MAX_RANKED with difflib
        for key in keys:
            for c in idx.get(key, ()):
                if c not in skip and c not in found:
                    found[c] = r
        if len(found) >= MAX_RANKED:
            break
    if not found:
        return []
    # which MAX_RANKED go to difflib must not depend on set order (hash seeds differ
    # between `guildls check` and the server): nearest round, closest length, then name
    pool = sorted(found, key=lambda c: (found[c], abs(len(c) - len(name)), c))[:MAX_RANKED]
    return difflib.get_close_matches(name, pool, n=n, cutoff=CUTOFF)


def did_you_mean(sugs: List[str]) -> str:
    if not sugs:
        return ""
    return " (did you mean " + " or ".join(f"'{s}'" for s in sugs) + "?)"
