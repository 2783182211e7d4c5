"""Incremental composition: a document split at its top-level entries, each composed alone.

A guild file is a mapping of operations or a list of models: every line at column 0
that is not blank or a comment starts one top-level entry ("chunk"), and an entry
composes the same alone as inside the whole document, except for its line numbers.
:func:`compose_chunked` composes each chunk with :func:`~guildls.model.nodes.compose`
(libyaml), shifts its nodes to the chunk's first line and joins the chunks under one
root. A :class:`ChunkCache` keeps the nodes of the last version's chunks by their text, so
an edit inside one operation of a large file composes only that operation again.

The result must be what ``compose`` of the whole text gives, so anything the split could
change falls back to a full compose: a chunk that does not parse alone (an alias to an
anchor of another chunk, a multi-line construct cut at column 0, a syntax error
anywhere), a merge key or a repeated key at the top level, document markers or
directives, chunks of different kinds, or a chunk holding more or less than one entry.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import deque
from itertools import accumulate, chain, compress, count, repeat
from operator import attrgetter, is_, itemgetter, not_, setitem
from typing import Any, Dict, List, Optional, Tuple

from .lines import YAML_ONLY_BREAKS as _YAML_ONLY_BREAKS
from .nodes import MAP, SCALAR, Composed, Node, Range, compose, each_node

# Below this many lines a full compose costs less than the bookkeeping.
MIN_LINES = 400


class _Chunk:
    __slots__ = ("root", "duplicates", "start", "kind", "key", "nodes", "movable", "entry")

    def __init__(self, root: Node, duplicates, start: int):
        self.root = root  # the chunk's one-entry MAP or SEQ, lines already shifted by `start`
        self.entry = root.value[0] if root.value else None  # its (key, value) pair or item
        self.duplicates = duplicates
        self.start = start
        self.kind = root.kind
        self.nodes: Optional[List[Node]] = None  # every node, listed on the first move
        # what the analysis remembered about the chunk's nodes and that holds lines of its
        # own (problems, references, steps: objects with a ``shift_lines(delta)`` method),
        # by memo key (a new entry under a key replaces the old one's, so this stays
        # bounded by the keys of the chunk's nodes): moved with the nodes
        self.movable: Optional[Dict[Any, list]] = None
        # a MAP entry's key when it can stand at the top level of a split document (a
        # hashable scalar that is no merge key), else None (compose the whole text)
        self.key = None
        if root.kind == MAP and len(root.value) == 1:
            k = root.value[0][0]
            if k.kind == SCALAR and k.tag != "tag:yaml.org,2002:merge" and k.value != "<<":
                try:
                    hash(k.value)
                    self.key = (k.value,)
                except TypeError:
                    pass


class ChunkCache:
    """The composed chunks of one document's last version, by chunk text."""

    def __init__(self):
        self._chunks: Dict[str, _Chunk] = {}
        self.reused = 0  # chunks taken from the cache by the last compose (for tests, bench)
        self.composed = 0  # chunks composed by the last compose
        # results of analysis passes over one node (an operation's schema or semantic
        # checks), valid while the node object is reused at the same line (the entry keeps
        # it alive). Each entry is [node, value, the last version that made or used it]; a
        # new version drops those the last one did not touch once they outnumber those it
        # did (one dictionary look-up per recall: a second table for the previous version
        # cost three, on ~10,000 recalls per edit at 5,000 operations; and no sweep of
        # the table per edit while it holds little else than what the last one used)
        self._memo: Dict[tuple, list] = {}
        self._version = 0
        self._touched = 0
        self._tokens: Dict[str, tuple] = {}
        self._serial = 0
        self.hits = 0
        # what an analysis pass keeps from its last run over this document, by pass (for
        # example the semantic problems of each operation object); the pass itself checks
        # that what it reuses still applies
        self.state: Dict[str, Any] = {}
        # this version's chunks in document order and their first lines (anchor())
        self._order: List[_Chunk] = []
        self._starts: List[int] = []
        # how many times nodes of this cache have moved (lines inserted or deleted above
        # them): a pass that keeps its last results by position (semantics.check) reuses
        # them without asking moved() only while this number is the one it saw
        self.shifts = 0

    def clear(self):
        self._chunks.clear()
        self._order, self._starts = [], []

    def anchor(self, node, movable=(), key=None) -> tuple:
        """Where `node` is now: (its chunk or None, the chunk's first line, the node's first
        line). `movable`: objects holding lines of `node`'s chunk (``shift_lines``), moved
        with it from now on (under `key`: those given before under it no longer are).
        See moved()."""
        if not isinstance(node, Node):
            return (None, 0, 0)
        sl = node.sl
        starts = self._starts
        i = bisect_right(starts, sl) - 1
        if i < 0 or not node.local:
            return (None, 0, sl)
        ch = self._order[i]
        if movable:
            end = starts[i + 1] if i + 1 < len(starts) else None
            for o in movable:
                r = getattr(o, "range", None)
                if isinstance(r, Range) and (r.start_line < ch.start or (end is not None and r.end_line > end)):
                    return (None, 0, sl)  # it holds lines of another entry: valid at this line only
            if ch.movable is None:
                ch.movable = {}
            ch.movable[key] = list(movable)
        return (ch, ch.start, sl)

    @staticmethod
    def moved(anchor: tuple, node) -> bool:
        """Is `node` where anchor() saw it, or moved by exactly as many lines as its chunk
        (so what was made movable then has moved with it)?"""
        ch, start, sl = anchor
        if ch is None:
            return not isinstance(node, Node) or node.sl == sl
        return node.sl - sl == ch.start - start

    def new_version(self):
        v = self._version
        if len(self._memo) > 2 * self._touched + 64:
            self._memo = {k: e for k, e in self._memo.items() if e[2] >= v}
        self._version = v + 1
        self._touched = 0
        self.hits = 0

    def recall(self, key: tuple, node: Node):
        """The result remembered for `key` and this very node, or None. A node that moved
        (lines inserted or deleted above it) gives it only when what remember() was told
        to move has moved with it."""
        e = self.recall_entry(key, node)
        return None if e is None else e[1]

    def recall_entry(self, key: tuple, node: Node) -> Optional[list]:
        """recall(), giving the entry itself ([node, value, version, anchor]) or None."""
        e = self._memo.get(key)
        if e is None or e[0] is not node or not self.moved(e[3], node):
            return None
        if e[2] != self._version:
            e[2] = self._version
            self._touched += 1
        self.hits += 1
        return e

    def remember(self, key: tuple, node: Node, value, movable=()) -> list:
        """Remember `value` for `key` and `node` (-> the entry, see touch()). `movable`:
        the objects of `value` holding lines (``shift_lines``); without them a remembered
        value holds for the node only at its line."""
        e = self._memo.get(key)
        if e is None or e[2] != self._version:
            self._touched += 1
        e = self._memo[key] = [node, value, self._version, self.anchor(node, movable, key)]
        return e

    def moved_away(self, entries: list, lo: int = 0) -> List[int]:
        """The positions (from `lo`) of the entries (recall_entry, remember) whose nodes
        did not move with what was remembered (see moved()): what recall() would not give."""
        ok = map(self.moved, map(itemgetter(3), entries), map(itemgetter(0), entries))
        return list(compress(count(lo), map(not_, ok)))

    def touch(self, entries: list) -> None:
        """Entries (recall_entry, remember) of the last version whose values a pass took
        again without recall() (it kept them by position, and checked that their nodes are
        the same objects and that no line moved since, `shifts`): they count as used."""
        deque(map(setitem, entries, repeat(2), repeat(self._version)), maxlen=0)
        self._touched += len(entries)
        self.hits += len(entries)

    def token(self, name: str, value) -> int:
        """A number that changes when `value` differs from the one given last time under
        `name` (memo keys hold the number: hashing a large tuple in every key would
        cost as much as the work remembered)."""
        old = self._tokens.get(name)
        if old is not None and old[0] == value:
            return old[1]
        self._serial += 1
        self._tokens[name] = (value, self._serial)
        return self._serial


def common_ends(new: list, old: list) -> Tuple[int, int]:
    """(a, b): the first `a` items of `new` are those of `old` and so are its last `b`
    (a + b <= both lengths), compared with ``==`` (identity for nodes, and tuples of
    them), by halving on list slices (in C: no Python loop over the items)."""
    n = min(len(new), len(old))
    lo, hi = 0, n  # new[:lo] == old[:lo]; new[:hi + 1] != old[:hi + 1] unless hi == n
    if new[:n] == old[:n]:
        lo = n
    else:
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if new[:mid] == old[:mid]:
                lo = mid
            else:
                hi = mid
    a = lo
    room = n - a
    nl, ol = len(new), len(old)
    lo, hi = 0, room
    if room and new[nl - room:] == old[ol - room:]:
        lo = room
    else:
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if new[nl - mid:] == old[ol - mid:]:
                lo = mid
            else:
                hi = mid
    return a, lo


# a line break before a line that starts a top-level entry (text without CR)
_ENTRY_HEAD = re.compile(r"\n(?=[^ \t\r\n#])")
# the first characters of top-level lines that make the text composed whole: directives,
# anchors, tags, aliases, block scalars, flow collections, complex keys; and document
# markers and merge keys (---, ..., <<) when the line starts so
_WHOLE_FIRST = frozenset("%?&!*|>[{@`")
_MAYBE_WHOLE = frozenset("-.<")


def _split(text: str) -> Optional[Tuple[str, List[str], List[int]]]:
    """(what comes before the first top-level entry, the text of each entry with the line
    break after it, the first line of each), or None when the text must be composed whole.
    Found by a regular expression searching for line breaks (memchr-fast), checked, sliced
    and counted in C: a loop over every line, or over every entry, costs milliseconds per
    edit at 5,000 operations."""
    offsets = [m.end() for m in _ENTRY_HEAD.finditer(text)]
    if text and text[0] not in " \t\r\n#":
        offsets.insert(0, 0)
    firsts = set(map(text.__getitem__, offsets))
    if not firsts.isdisjoint(_WHOLE_FIRST):
        return None
    if not firsts.isdisjoint(_MAYBE_WHOLE):
        for pos in offsets:
            if text.startswith(("---", "...", "<<"), pos):
                return None
    if not offsets:
        return text, [], []
    ends = offsets[1:]
    ends.append(len(text))
    texts = list(map(text.__getitem__, map(slice, offsets, ends)))
    prevs = [0]
    prevs += offsets[:-1]
    starts = list(accumulate(map(text.count, repeat("\n"), prevs, offsets)))
    return text[:offsets[0]], texts, starts


def _shift(ch: _Chunk, delta: int) -> None:
    nodes = ch.nodes
    if nodes is None:
        nodes = ch.nodes = list(each_node(ch.root, ch.duplicates))
    for n in nodes:
        n.sl += delta
        n.el += delta
    if ch.movable:
        done = set()  # an object remembered under several keys moves once
        for objs in ch.movable.values():
            for o in objs:
                if id(o) not in done:
                    done.add(id(o))
                    o.shift_lines(delta)


def compose_chunked(text: str, cache: Optional[ChunkCache], src=None) -> Composed:
    """``compose(text)`` reusing the chunks of `cache` whose text did not change."""
    if cache is None:
        return compose(text, src)
    cache.new_version()
    cache._order, cache._starts = [], []  # set again when this version is composed in chunks
    if "\r" in text or any(ch in text for ch in _YAML_ONLY_BREAKS):
        # lines as the editor and YAML count them differ from text.split("\n")
        cache.clear()
        return compose(text, src)
    found = _split(text) if text.count("\n") + 1 >= MIN_LINES else None
    if not found or not found[1] or any(line and line[0] != "#" for line in found[0].split("\n")):
        cache.clear()
        return compose(text, src)
    _head, texts, starts = found
    if not cache._chunks and "&" not in text:
        # nothing to reuse: one compose of the whole text costs less than one per chunk,
        # and without anchors (so without aliases) each entry is what composing its chunk
        # alone gives; keep them as the chunks of this version
        return _compose_whole(text, starts, texts, cache, src)
    chs = list(map(cache._chunks.get, texts))
    new = dict(zip(texts, chs))
    if len(new) != len(texts):  # the same text twice: a repeated entry
        cache.clear()
        return compose(text, src)
    missing = list(compress(count(), map(is_, chs, repeat(None))))  # (found in C)
    composed = 0
    for i in missing:
        ctext = texts[i]
        c = compose(ctext, src)
        if c.syntax_errors or c.partial or c.root is None or c.root.kind == SCALAR or len(c.root.value) != 1:
            cache.clear()
            return compose(text, src)
        chs[i] = new[ctext] = ch = _Chunk(c.root, list(c.duplicates), 0)
        if starts[i]:
            _shift(ch, starts[i])  # new nodes to their lines (not a move: `shifts` stays)
            ch.start = starts[i]
        composed += 1
    if list(map(_START, chs)) != starts:
        for ch, start in zip(chs, starts):
            if ch.start != start:
                _shift(ch, start - ch.start)
                ch.start = start
                cache.shifts += 1
    kinds = set(map(_KIND, chs))
    if len(kinds) != 1:
        cache.clear()
        return compose(text, src)
    kind = kinds.pop()
    if kind == MAP:
        keys = set(map(_KEY, chs))
        if None in keys or len(keys) != len(chs):
            # a key that cannot stand alone, or a repeated operation (the full compose words it)
            cache.clear()
            return compose(text, src)
    value = list(map(_ENTRY, chs))
    duplicates: List[Tuple[Node, Node]] = list(chain.from_iterable(map(_DUPLICATES, chs)))
    first, last = chs[0].root, chs[-1].root
    root = Node(kind, value, first.sl, first.sc, last.el, last.ec, first.style, first.tag, src)
    if kind == MAP:
        # its key index (Node._key_index), from the chunks' distinct scalar keys, in C
        root._index = dict(zip(map(_FIRST, map(_KEY, chs)), value))
    cache._chunks = new
    cache._order, cache._starts = chs, starts
    cache.reused, cache.composed = len(chs) - composed, composed
    return Composed(root, [], duplicates, False)


_START, _KIND, _KEY, _ENTRY, _DUPLICATES = map(attrgetter, ("start", "kind", "key", "entry", "duplicates"))
_FIRST = itemgetter(0)


def _compose_whole(text: str, starts: List[int], texts: List[str], cache: ChunkCache, src) -> Composed:
    full = compose(text, src)
    root = full.root
    if (full.syntax_errors or full.partial or root is None or root.kind == SCALAR
            or len(root.value) != len(starts)):
        return full
    entries = root.value
    for i, e in enumerate(entries):
        k = e[0] if root.kind == MAP else e
        if k.sl != starts[i] or (root.kind == MAP and (k.kind != SCALAR or k.sc != 0)):
            return full
    bounds = starts + [text.count("\n") + 1]
    dups: Dict[int, list] = {}
    for first, dup in full.duplicates:
        j = next((i for i in range(len(starts)) if starts[i] <= dup.sl < bounds[i + 1]), None)
        if j is None:
            return full
        dups.setdefault(j, []).append((first, dup))
    new: Dict[str, _Chunk] = {}
    order = []
    n = len(starts)
    for i, start in enumerate(starts):
        end = bounds[i + 1]
        ctext = texts[i]
        el, ec = (end, 0) if i < n - 1 else (root.el, root.ec)
        croot = Node(root.kind, [entries[i]], start, 0, el, ec, root.style, root.tag, src)
        new[ctext] = ch = _Chunk(croot, dups.get(i, []), start)
        order.append(ch)
    cache._chunks = new
    cache._order, cache._starts = order, starts
    cache.reused, cache.composed = 0, n
    return full
