"""Positioned YAML nodes.

PyYAML's ``compose`` (the libyaml C loader when present) gives a node graph with marks.
We turn it into :class:`Node` objects that carry a Python value for scalars, the
0-based source range, and the file they came from. Aliases are shared (converted once),
merge keys (``<<``) are applied, duplicate keys are recorded. A document that does not
parse is re-composed with the offending lines blanked so that the rest still yields
nodes (the normal state of a buffer while typing).
"""

from __future__ import annotations

import datetime
import re
import sys
from types import MappingProxyType
from typing import Iterator, List, NamedTuple, Optional, Tuple

import yaml
from yaml.composer import ComposerError
from yaml.constructor import SafeConstructor

from . import yamlevents
from .lines import YAML_ONLY_BREAKS, YamlLines, split_lines
from .yamlevents import (AliasEvent, MappingEndEvent, MappingStartEvent, ScalarEvent, SequenceEndEvent,
                         SequenceStartEvent, StreamEndEvent, args_events)

try:  # pragma: no cover - depends on the PyYAML build
    from yaml import CSafeLoader as _Loader
    from yaml._yaml import CParser as _EventParser

    HAVE_LIBYAML = True
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader

    _EventParser = None
    HAVE_LIBYAML = False
if not yamlevents.AVAILABLE:  # pragma: no cover - a PyYAML whose C parser names its events otherwise
    _EventParser = None

MAP, SEQ, SCALAR = 0, 1, 2

_MERGE_TAG = "tag:yaml.org,2002:merge"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_STR_TAG = "tag:yaml.org,2002:str"

_constructor = SafeConstructor()
_scalar_ctors = SafeConstructor.yaml_constructors

# Guild patches PyYAML's resolver when it starts (guild/yaml_util.py, patch_yaml_resolver):
# the exponent sign and the decimal point of a float are optional, so `1e-3` is the float
# 0.001 and `1.0e3` is 1000.0 for Guild (plain YAML 1.1 keeps both as text). The pattern is
# added after PyYAML's own ones, as Guild does, so ints, dates and the rest are unchanged.
GUILD_FLOAT_RE = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
            |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
            |\.[0-9_]+(?:[eE][-+][0-9]+)?
            |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
            |[-+]?\.(?:inf|Inf|INF)
            |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_FLOAT_FIRST = list("-+0123456789.")


class GuildLoader(_Loader):
    """PyYAML's safe loader with Guild's resolver rules: the one way values are decoded."""


GuildLoader.add_implicit_resolver("tag:yaml.org,2002:float", GUILD_FLOAT_RE, _FLOAT_FIRST)


class GuildDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    """PyYAML's safe dumper with Guild's resolver rules (text that Guild would read as a
    float, such as '1e-3', is quoted)."""


GuildDumper.add_implicit_resolver("tag:yaml.org,2002:float", GUILD_FLOAT_RE, _FLOAT_FIRST)


def safe_load(text: str):
    """``yaml.safe_load`` as Guild does it (Guild's resolver rules)."""
    return yaml.load(text, Loader=GuildLoader)


def safe_dump(value, **kw) -> str:
    """``yaml.safe_dump`` as Guild does it (Guild's resolver rules)."""
    return yaml.dump(value, Dumper=GuildDumper, **kw)


class _FastLoader(GuildLoader):
    """The same loader with implicit tag resolution memoized per scalar text.

    PyYAML resolves every plain scalar with a chain of regular expressions in Python,
    even under the C parser; guild files repeat the same keys and values thousands of
    times, so a cache keyed on the text removes most of that cost. Results are
    identical: resolution depends only on (kind, value, implicit).
    """

    _cache = {}

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode:
            key = (value, implicit)
            try:
                return _FastLoader._cache[key]
            except KeyError:
                tag = super().resolve(kind, value, implicit)
                if len(_FastLoader._cache) > 50000:
                    _FastLoader._cache.clear()
                _FastLoader._cache[key] = tag
                return tag
            except TypeError:  # pragma: no cover
                return super().resolve(kind, value, implicit)
        return super().resolve(kind, value, implicit)


class Range(NamedTuple):
    """0-based ``(start_line, start_col, end_line, end_col)``; columns count code points."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int

    def contains(self, line: int, col: int) -> bool:
        if line < self.start_line or line > self.end_line:
            return False
        if line == self.start_line and col < self.start_col:
            return False
        if line == self.end_line and col > self.end_col:
            return False
        return True


_NO_INDEX = MappingProxyType({})  # the key index of a node that is no mapping


class Node:
    """A positioned YAML node.

    ``value`` is a list of ``(key, value)`` node pairs for mappings, a list of nodes for
    sequences and the constructed Python value for scalars. ``src`` is ``None`` for
    nodes of the document being analysed and a file path for nodes that came from an
    included file.
    """

    __slots__ = ("kind", "value", "sl", "sc", "el", "ec", "style", "tag", "src", "_index", "orig")

    def __init__(self, kind, value, sl, sc, el, ec, style=None, tag=None, src=None):
        self.kind = kind
        self.value = value
        self.sl = sl
        self.sc = sc
        self.el = el
        self.ec = ec
        self.style = style
        self.tag = tag
        self.src = src
        self._index = None
        self.orig = None  # the text as written, when {{ params }} substitution changed it

    # ranges -------------------------------------------------------------
    @property
    def range(self) -> Range:
        return Range(self.sl, self.sc, self.el, self.ec)

    @property
    def is_map(self) -> bool:
        return self.kind == MAP

    @property
    def is_seq(self) -> bool:
        return self.kind == SEQ

    @property
    def is_scalar(self) -> bool:
        return self.kind == SCALAR

    @property
    def is_null(self) -> bool:
        return self.kind == SCALAR and self.value is None

    @property
    def local(self) -> bool:
        """True when the node belongs to the analysed document itself."""
        return self.src is None

    # mapping access -------------------------------------------------------
    def items(self) -> List[Tuple["Node", "Node"]]:
        return self.value if self.kind == MAP else []

    def _key_index(self):
        """The index made from the pairs (kept), ``_NO_INDEX`` for a node of another kind:
        what the look-ups below use when the builder gave the node none."""
        if self._index is None:
            if self.kind != MAP:
                return _NO_INDEX
            idx = {}
            for k, v in self.value:
                kv = k.value if k.kind == SCALAR else None
                try:
                    idx[kv] = (k, v)
                except TypeError:  # unhashable key value
                    pass
            self._index = idx
        return self._index

    def get(self, key, default=None) -> Optional["Node"]:
        idx = self._index
        if idx is None:
            idx = self._key_index()
        try:
            pair = idx.get(key)
        except TypeError:  # an unhashable key (a list or mapping used as key)
            return default
        return pair[1] if pair else default

    def get_pair(self, key) -> Optional[Tuple["Node", "Node"]]:
        idx = self._index
        if idx is None:
            idx = self._key_index()
        try:
            return idx.get(key)
        except TypeError:
            return None

    def index(self):
        """A mapping's pairs by key value (the last of repeated keys), an empty read-only
        mapping for another kind of node: for looking up many keys at once."""
        idx = self._index
        return idx if idx is not None else self._key_index()

    def __contains__(self, key) -> bool:
        idx = self._index
        if idx is None:
            idx = self._key_index()
        try:
            return key in idx
        except TypeError:
            return False

    def keys(self):
        return [k.value for k, _ in self.value] if self.kind == MAP else []

    # conversion -----------------------------------------------------------
    def py(self, _seen=None):
        """The plain Python value (what ``yaml.safe_load`` would give)."""
        if self.kind == SCALAR:
            return self.value
        if _seen is None:
            # a list of scalars, or a mapping of scalars and lists of scalars (flag
            # attributes with their choices, a requires item): nothing can recur, so no
            # bookkeeping
            plain = _plain_list(self.value) if self.kind == SEQ else _plain_mapping(self.value)
            if plain is not None:
                return plain
            _seen = set()
        if id(self) in _seen:
            return None
        _seen.add(id(self))
        try:
            if self.kind == SEQ:
                return [n.py(_seen) for n in self.value]
            out = {}
            for k, v in self.value:
                kv = k.py(_seen)
                try:
                    out[kv] = v.py(_seen)
                except TypeError:
                    out[repr(kv)] = v.py(_seen)
            return out
        finally:
            _seen.discard(id(self))

    def text(self) -> Optional[str]:
        """The scalar as text (``None`` for null or collections)."""
        if self.kind != SCALAR or self.value is None:
            return None
        v = self.value
        if isinstance(v, bool):
            return "yes" if v else "no"
        return str(v)

    def __repr__(self):  # pragma: no cover - debugging aid
        kind = {MAP: "map", SEQ: "seq", SCALAR: "scalar"}[self.kind]
        return f"<Node {kind} {self.sl}:{self.sc}-{self.el}:{self.ec} {self.value!r:.40}>"


def _plain_list(items) -> Optional[list]:
    """The values of a sequence's items when all are scalars, else None."""
    for n in items:
        if n.kind != SCALAR:
            return None
    return [n.value for n in items]


def _plain_mapping(pairs) -> Optional[dict]:
    """``Node.py`` of a mapping whose keys are scalars and whose values are scalars or
    lists of scalars, else None."""
    out = {}
    for k, v in pairs:
        if k.kind != SCALAR:
            return None
        if v.kind == SCALAR:
            val = v.value
        elif v.kind == SEQ:
            val = _plain_list(v.value)
            if val is None:
                return None
        else:
            return None
        try:
            out[k.value] = val
        except TypeError:
            out[repr(k.value)] = val
    return out


def derived(node: Node, value, kind=SCALAR) -> Node:
    """A new node with ``node``'s position and another value."""
    n = Node(kind, value, node.sl, node.sc, node.el, node.ec, node.style, node.tag, node.src)
    return n


class SyntaxProblem(NamedTuple):
    message: str
    range: Range


class Composed(NamedTuple):
    root: Optional[Node]
    syntax_errors: List[SyntaxProblem]
    duplicates: List[Tuple[Node, Node]]  # (first key, repeated key)
    partial: bool  # True when lines were blanked to recover


_PROPERTIES = re.compile(r"(?:[&!][^\s]*[ \t]+)+")
_ANCHOR = re.compile(r"&([^\s,\[\]{}]+)")

# Aliases share one node, but everything that walks values (messages, flag values,
# params) sees them expanded: an alias of an alias of ... ("billion laughs") is tiny
# text and an exponential value. Expansion is counted while converting and an alias
# that would take the document past this many values is refused at its anchor.
MAX_EXPANDED_NODES = 100_000


def _construct(tag, ynode, errors: List[SyntaxProblem]):
    """The Python value of a scalar yaml node of a resolved ``tag`` (its text when no
    constructor takes it); problems Guild would meet are added to ``errors``."""
    ctor = None if tag == _STR_TAG else _scalar_ctors.get(tag)
    if ctor is None:
        if tag != _STR_TAG:
            errors.append(_unknown_tag(tag, ynode.start_mark))
        return ynode.value
    try:
        value = ctor(_constructor, ynode)
        if value.__class__ is int and value.bit_length() > 14000:
            str(value)  # past Python's digit limit this raises, as Guild's YAML dump does
        return value
    except ValueError as e:
        if "integer string conversion" in str(e):
            # an integer Python refuses to convert: Guild's loader (decimal) or its YAML
            # dump (hex, octal) fails on it; we keep the text
            sm, em = ynode.start_mark, ynode.end_mark
            errors.append(SyntaxProblem(str(e), Range(sm.line, sm.column, em.line, em.column)))
        return ynode.value
    except Exception:  # bad timestamp, bad binary, ...
        return ynode.value


def _unknown_tag(tag: str, sm) -> SyntaxProblem:
    return SyntaxProblem(f"could not determine a constructor for the tag '{tag}'",
                         Range(sm.line, sm.column, sm.line, sm.column + len(tag.split(":")[-1]) + 1))


def _value_column(text: str, sl: int, sc: int, el: int, ec: int) -> int:
    """The column where a scalar's value starts on its line ``text``: PyYAML starts the
    node at its anchor or tag."""
    if sc < len(text) and text[sc] in "&!":
        m = _PROPERTIES.match(text, sc)
        if m is not None and (el > sl or m.end() <= ec):
            return m.end()
    return sc


class _Converter:
    def __init__(self, src, lines=None, props=True):
        self.src = src
        self.lines = lines or []
        # False when the text has no '&' nor '!': no node starts at an anchor or a tag
        self.props = props and bool(self.lines)
        self.memo = {}
        self.active = set()
        self.duplicates = []
        self.errors = []
        self.expanded = 0  # values seen so far, each alias counted as its whole expansion
        self.sizes = {}  # id(yaml node) -> expanded size of that collection
        self.refused = set()

    def convert(self, ynode) -> Node:
        self.expanded += 1
        if ynode.__class__ is yaml.ScalarNode:
            # leaves: an aliased scalar converted twice costs nothing and shares nothing
            return self._scalar(ynode)
        sm, em = ynode.start_mark, ynode.end_mark
        nid = id(ynode)
        memo = self.memo.get(nid)
        if memo is not None:
            self.expanded += self.sizes[nid] - 1
            if self.expanded > MAX_EXPANDED_NODES:
                return self._refuse(ynode)
            return memo
        if nid in self.active:
            self.errors.append(
                SyntaxProblem("recursive alias: a node cannot contain itself",
                              Range(sm.line, sm.column, sm.line, sm.column + 1))
            )
            return Node(SCALAR, None, sm.line, sm.column, em.line, em.column, None, None, self.src)
        self.active.add(nid)
        before = self.expanded
        try:
            n = self._collection(ynode)
            self.memo[nid] = n
            self.sizes[nid] = self.expanded - before + 1
            return n
        finally:
            self.active.discard(nid)

    def _collection(self, ynode) -> Node:
        sm, em = ynode.start_mark, ynode.end_mark
        tag = ynode.tag
        if tag not in (_MAP_TAG, _SEQ_TAG) and tag not in _scalar_ctors:
            self.errors.append(_unknown_tag(tag, sm))
        if ynode.__class__ is yaml.SequenceNode or isinstance(ynode, yaml.SequenceNode):
            n = Node(SEQ, [], sm.line, sm.column, em.line, em.column, ynode.flow_style, tag, self.src)
            n.value = [self.convert(c) for c in ynode.value]
        else:
            n = Node(MAP, [], sm.line, sm.column, em.line, em.column, ynode.flow_style, tag, self.src)
            n.value = self._mapping(ynode)
        return n

    def _scalar(self, ynode) -> Node:
        sm, em = ynode.start_mark, ynode.end_mark
        tag = ynode.tag
        value = _construct(tag, ynode, self.errors)
        sc = sm.column
        if self.props and sm.line < len(self.lines):
            sc = _value_column(self.lines[sm.line], sm.line, sc, em.line, em.column)
        return Node(SCALAR, value, sm.line, sc, em.line, em.column, ynode.style, tag, self.src)

    def _refuse(self, ynode) -> Node:
        """An alias that would expand the document past the limit: a null value instead."""
        sm = ynode.start_mark
        self.expanded -= self.sizes[id(ynode)]
        text = self.lines[sm.line] if sm.line < len(self.lines) else ""
        m = _ANCHOR.match(text, sm.column)
        name = f"&{m.group(1)}" if m else "this anchor"
        end = m.end() if m else sm.column + 1
        if not self.refused:  # the first one says it; later ones are the same bomb
            self.refused.add(id(ynode))
            self.errors.append(SyntaxProblem(
                f"aliases of {name} expand to more than {MAX_EXPANDED_NODES} values "
                "(an alias bomb?): not expanded", Range(sm.line, sm.column, sm.line, end)))
        return Node(SCALAR, None, sm.line, sm.column, sm.line, end, None, None, self.src)

    def _mapping(self, ynode):
        pairs = []
        merges = []
        seen = {}
        for yk, yv in ynode.value:
            if yk.tag == _MERGE_TAG:
                merges.append(yv)
                continue
            _add_pair(pairs, seen, self.convert(yk), self.convert(yv), self.errors, self.duplicates)
        if merges:
            sources = [self.convert(ys) for ym in merges
                       for ys in (ym.value if isinstance(ym, yaml.SequenceNode) else [ym])]
            pairs = _merged(pairs, sources)
        return pairs


def _add_pair(pairs: list, seen: dict, k: Node, v: Node, errors: list, duplicates: list) -> None:
    """Add ``(k, v)`` to a mapping's ``pairs`` as PyYAML does: a repeated key replaces
    the earlier pair (and is recorded in ``duplicates``); a collection as key is an error."""
    if k.kind != SCALAR:
        errors.append(SyntaxProblem(
            "found unhashable key (while constructing a mapping)", Range(k.sl, k.sc, k.sl, k.sc + 1)))
    else:
        try:
            first = seen.get(k.value)
            if first is not None:
                duplicates.append((first, k))
                # last one wins, as in PyYAML: drop the earlier pair
                pairs[:] = [p for p in pairs if p[0] is not first]
            seen[k.value] = k
        except TypeError:
            pass
    pairs.append((k, v))


def _merged(pairs: list, sources: List[Node]) -> list:
    """A mapping's ``pairs`` after its merge keys (``<<``): the pairs of each mapping in
    ``sources`` whose key the mapping (or an earlier source) does not have, first."""
    own = set()
    for k, _ in pairs:
        try:
            own.add(k.value)
        except TypeError:
            pass
    extra = []
    for m in sources:
        if m.kind != MAP:
            continue
        for k, v in m.value:
            try:
                if k.value in own:
                    continue
                own.add(k.value)
            except TypeError:
                pass
            extra.append((k, v))
    return extra + pairs


class _PlainConverter(_Converter):
    """The converter for a text without aliases (no '*' in it): every collection is met
    once, so there is nothing to share, no recursion and no expansion to count."""

    def convert(self, ynode) -> Node:
        if ynode.__class__ is yaml.ScalarNode:
            return self._scalar(ynode)
        return self._collection(ynode)


# A document without aliases is built straight from libyaml's events: what
# ``yaml.compose`` and the converter give, without PyYAML's node graph in between and
# without its Python callbacks for every node (tag resolution, path resolvers), which
# together cost about twice the parse itself. Plain scalars are typed once per distinct
# text, most of them when first read.
_PLAIN_MEMO: dict = {}
_PLAIN_MEMO_MAX = 50_000
# When the memo is full it becomes the previous generation (and the memo starts empty):
# a text typed again is taken from there, so that the few texts every operation repeats
# (`0.01`, `float`, `yes`) are not typed again with the regular expressions each time a
# large file's unique texts (names, descriptions) have filled the memo.
_PLAIN_OLD: dict = {}
# first characters some implicit rule looks at: any other plain text is a string
_RESOLVED_FIRST = frozenset(c for c in GuildLoader.yaml_implicit_resolvers if c)
_EAGER_FIRST = frozenset("<=!&*")  # rules without a constructor: typing says so at once
_LAZY_MAX = 100
# Deeper documents are composed and converted as texts with aliases are: what they give
# (a parse error further on, the converter out of stack) stays what it was.
MAX_NESTING = 100


_new_node = object.__new__  # a Node whose slots the builder fills (no __init__ call)


class _NotForTheBuilder(Exception):
    """An alias, or nesting past MAX_NESTING: the document is composed by PyYAML and
    converted instead (the builder raised nothing compose would not have raised first)."""


class _EventBuilder:
    def __init__(self, text: str, src, lines: List[str], props: bool):
        self.get = _EventParser(text).get_event
        self.src = src
        self.lines = lines
        self.props = props and bool(lines)
        self.anchors = {}
        self.errors: List[SyntaxProblem] = []
        self.duplicates: List[Tuple[Node, Node]] = []

    def build(self) -> Optional[Node]:
        """The document's root node (None for an empty stream); raises what
        ``yaml.compose`` raises."""
        with args_events:
            get = self.get
            get()  # stream start
            if get().__class__ is StreamEndEvent:
                return None
            ev = get()
            root = self.node(ev, 0)
            get()  # document end
            after = get()
            if after.__class__ is not StreamEndEvent:
                raise ComposerError("expected a single document in the stream", ev.start_mark,
                                    "but found another document", after.start_mark)
            return root

    def node(self, ev, depth: int) -> Node:
        cls = ev.__class__
        if cls is AliasEvent:
            raise _NotForTheBuilder()  # aliases are shared and counted by the converter
        if cls is ScalarEvent:
            anchor, tag, implicit, text, sm, em, style = ev.args
        else:
            anchor, tag, _implicit, sm, _em, style = ev.args
        if anchor is not None:
            self._anchor(anchor, sm)
        if cls is ScalarEvent:
            sl = sm.line
            sc = sm.column
            if self.props and sl < len(self.lines):
                sc = _value_column(self.lines[sl], sl, sc, em.line, em.column)
            if tag is None or tag == "!":
                if not implicit[0] or (text and text[0] not in _RESOLVED_FIRST):
                    tag = _STR_TAG  # quoted, a block, or text no implicit rule can match
                    value = text
                else:
                    typed = _PLAIN_MEMO.get(text)
                    if typed is None:
                        if len(text) <= _LAZY_MAX and text[:1] not in _EAGER_FIRST:
                            return _LazyScalar(text, sl, sc, em.line, em.column, style, self.src)
                        typed = _typed_plain(text, sm, em, style, self.errors)
                    tag, value = typed
            else:
                value = _construct(tag, yaml.ScalarNode(tag, text, sm, em, style), self.errors)
            return Node(SCALAR, value, sl, sc, em.line, em.column, style, tag, self.src)
        depth += 1
        if depth > MAX_NESTING:
            raise _NotForTheBuilder()
        is_seq = cls is SequenceStartEvent
        if tag is None or tag == "!":
            tag = _SEQ_TAG if is_seq else _MAP_TAG
        elif tag != _MAP_TAG and tag != _SEQ_TAG and tag not in _scalar_ctors:
            self.errors.append(_unknown_tag(tag, sm))
        return self._collection(style, is_seq, tag, sm, depth)

    def _collection(self, flow_style, is_seq: bool, tag: str, sm, depth: int) -> Node:
        """A sequence or mapping and what is in it. Its most common child, a scalar with
        neither tag nor anchor, is made here in the loop, without a Python call per node
        (what ``node`` does for it, less the column fix that only tags and anchors need).
        A mapping whose keys are distinct strings gets its key index (see ``Node.get``)
        from its pairs as they come. (Events are read as their argument tuples, see
        yamlevents.)"""
        get = self.get
        src = self.src
        memo = _PLAIN_MEMO
        resolved = _RESOLVED_FIRST
        eager = _EAGER_FIRST
        lazy_max = _LAZY_MAX
        new = _new_node
        node_cls, lazy_cls, scalar_ev, str_tag, scalar = Node, _LazyScalar, ScalarEvent, _STR_TAG, SCALAR
        map_ev, seq_ev = MappingStartEvent, SequenceStartEvent
        is_map = not is_seq
        items = []
        n = new(node_cls)  # (Node.__init__, less the call)
        n.kind = SEQ if is_seq else MAP
        n.value = items
        n.sl = sm.line
        n.sc = sm.column
        n.style = flow_style
        n.tag = tag
        n.src = src
        n._index = None
        n.orig = None
        end = SequenceEndEvent if is_seq else MappingEndEvent
        key = None  # a mapping's key, waiting for its value
        index = {}  # key -> pair, while the keys are distinct strings
        seen = None  # key -> key node (see _add_pair), from the first key that is not
        merges = None
        e = get()
        cls = e.__class__
        while cls is not end:
            if cls is scalar_ev:
                anchor, tag_, implicit, text, m, em, style = e.args
            else:
                anchor = tag_ = True
            if anchor is None and tag_ is None:
                if text == "<<" and key is None and is_map and implicit[0]:
                    merges = self._merge(e, depth, merges)
                    e = get()
                    cls = e.__class__
                    continue
                if not implicit[0] or (text and text[0] not in resolved):
                    child = new(node_cls)
                    child.value = text  # quoted, a block, or text no implicit rule can match
                    child.tag = str_tag
                else:
                    typed = memo.get(text)
                    if typed is None and (key is not None or is_seq) and len(text) <= lazy_max \
                            and text[:1] not in eager:
                        child = new(lazy_cls)  # a value: typed when read (a key is read at once)
                        child._text = text
                    else:
                        if typed is None:
                            typed = _typed_plain(text, m, em, style, self.errors)
                        child = new(node_cls)
                        child.tag, child.value = typed
                child.kind = scalar
                child.sl = m.line
                child.sc = m.column
                child.el = em.line
                child.ec = em.column
                child.style = style
                child.src = src
                child._index = None
                child.orig = None
            else:
                if key is None and is_map:
                    if cls is AliasEvent:
                        raise _NotForTheBuilder()
                    if e.tag == _MERGE_TAG or (cls is scalar_ev and e.value == "<<"
                                               and e.tag in (None, "!") and e.implicit[0]):
                        merges = self._merge(e, depth, merges)
                        e = get()
                        cls = e.__class__
                        continue
                if (cls is map_ev or cls is seq_ev) and depth < MAX_NESTING:
                    anchor, tag_, _implicit, m, _em, style = e.args
                    if anchor is None and (tag_ is None or tag_ == "!"):
                        # an untagged, unanchored collection: what node() would do
                        child = self._collection(style, cls is seq_ev, _SEQ_TAG if cls is seq_ev else _MAP_TAG,
                                                 m, depth + 1)
                    else:
                        child = self.node(e, depth)
                else:
                    child = self.node(e, depth)
            if is_seq:
                items.append(child)
            elif key is None:
                key = child
            else:
                kv = key.value
                if seen is None and kv.__class__ is str and key.kind == SCALAR and kv not in index:
                    index[kv] = pair = (key, child)
                    items.append(pair)
                else:
                    if seen is None:
                        seen = {k: pair[0] for k, pair in index.items()}
                    _add_pair(items, seen, key, child, self.errors, self.duplicates)
                key = None
            e = get()
            cls = e.__class__
        em = e.args[1]
        n.el = em.line
        n.ec = em.column
        if merges is not None:
            sources, errors, duplicates = merges
            self.errors.extend(errors)
            self.duplicates.extend(duplicates)
            n.value = _merged(items, sources)
        elif is_map and seen is None:
            n._index = index
        return n

    def _merge(self, key_ev, depth: int, merges: Optional[list]) -> list:
        """A merge key (``<<``) and its value: the mappings to merge go to ``merges``
        ([sources, errors, duplicates], made at the mapping's first merge key), returned.
        The converter never converts the key, and converts the value (or each item of a
        sequence) after the mapping's own pairs: problems found in them are kept apart and
        added after the mapping's."""
        if merges is None:
            merges = [[], [], []]
        sources, errors, duplicates = merges
        own = self.errors, self.duplicates
        try:
            self.errors, self.duplicates = [], []
            self.node(key_ev, depth)  # read and dropped
            self.errors, self.duplicates = errors, duplicates
            ev = self.get()
            if ev.__class__ is SequenceStartEvent:
                if ev.anchor is not None:
                    self._anchor(ev.anchor, ev.start_mark)
                e = self.get()
                while e.__class__ is not SequenceEndEvent:
                    sources.append(self.node(e, depth + 1))
                    e = self.get()
            else:
                sources.append(self.node(ev, depth))
        finally:
            self.errors, self.duplicates = own
        return merges

    def _anchor(self, name: str, mark) -> None:
        first = self.anchors.get(name)
        if first is not None:
            raise ComposerError("found duplicate anchor; first occurrence", first,
                                "second occurrence", mark)
        self.anchors[name] = mark


_RESOLVER = []


def _typed_plain(text: str, sm, em, style, errors: List[SyntaxProblem]) -> Tuple[str, object]:
    """(tag, value) of a plain scalar without a tag, memoized by its text when typing it
    found no problem."""
    typed = _PLAIN_OLD.get(text)
    if typed is None:
        if not _RESOLVER:
            _RESOLVER.append(GuildLoader(""))
        tag = _RESOLVER[0].resolve(yaml.ScalarNode, text, (True, False))
        before = len(errors)
        value = text if tag == _STR_TAG else _construct(tag, yaml.ScalarNode(tag, text, sm, em, style), errors)
        typed = (tag, value)
        if len(errors) != before:
            return typed
    if len(_PLAIN_MEMO) >= _PLAIN_MEMO_MAX:
        _PLAIN_OLD.clear()
        _PLAIN_OLD.update(_PLAIN_MEMO)
        _PLAIN_MEMO.clear()
    _PLAIN_MEMO[text] = typed
    return typed


class _LazyScalar(Node):
    """A plain scalar typed when its value or tag is first read (most values of a large
    mapping of unknown keys never are). Only texts whose typing cannot find a problem are
    left for later: short ones (no integer past Python's digit limit) that no rule without
    a constructor (``<<``, ``=``) can match."""

    __slots__ = ("_text",)

    def __init__(self, text, sl, sc, el, ec, style, src):
        self.kind = SCALAR
        self._text = text
        self.sl = sl
        self.sc = sc
        self.el = el
        self.ec = ec
        self.style = style
        self.src = src
        self._index = None
        self.orig = None

    def __getattr__(self, name):
        # only called for the two unset slots (value, tag) until they are set
        if name != "value" and name != "tag":
            raise AttributeError(name)
        typed = _PLAIN_MEMO.get(self._text)
        if typed is None:
            typed = _typed_plain(self._text, None, None, self.style, [])
        self.tag, self.value = typed
        return self.value if name == "value" else self.tag


def _syntax_problem(err: yaml.YAMLError, lines: List[str]) -> SyntaxProblem:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = getattr(err, "problem", None)
    context = getattr(err, "context", None)
    if problem:
        message = f"{problem} ({context})" if context else problem
    else:
        message = str(err).splitlines()[0] if str(err) else "invalid YAML"
    if mark is None:
        return SyntaxProblem(message, Range(0, 0, 0, 0))
    key = _half_typed_key(err, lines)
    if key is not None:  # a key being typed: say so on its own line, not the next one
        return SyntaxProblem(message, key)
    line = min(mark.line, max(len(lines) - 1, 0))
    col = mark.column
    text = lines[line] if lines else ""
    end = col
    while end < len(text) and not text[end].isspace():
        end += 1
    if end == col:
        end = col + 1
    return SyntaxProblem(message, Range(line, col, line, end))


_BARE_WORDS = re.compile(r"^(\s*(?:-\s+)?)([^\s:#'\"\[\]{}|>&*!%@`,-][^:#]*?)\s*$")


def _half_typed_key(err: yaml.YAMLError, lines: List[str]) -> Optional[Range]:
    """The range of a key typed without its colon yet (``  mai`` above ``  flags:``), which
    PyYAML reports on the line after it."""
    problem = getattr(err, "problem", None)
    pm = getattr(err, "problem_mark", None)
    cm = getattr(err, "context_mark", None)
    if problem == "could not find expected ':'" and cm is not None and cm.line < len(lines) \
            and pm is not None and pm.line > cm.line:
        line = cm.line
    elif problem == "mapping values are not allowed here" and pm is not None and 0 < pm.line < len(lines):
        line = pm.line - 1
        while line >= 0 and (not lines[line].strip() or lines[line].lstrip().startswith("#")):
            line -= 1
        if line < 0:
            return None
        indent = len(lines[pm.line]) - len(lines[pm.line].lstrip())
        if len(lines[line]) - len(lines[line].lstrip()) != indent:
            return None
    else:
        return None
    m = _BARE_WORDS.match(lines[line])
    if m is None:
        return None
    start = len(m.group(1))
    return Range(line, start, line, start + len(m.group(2)))


def _too_deep(err: yaml.YAMLError) -> bool:
    """libyaml's error for more than 1,000 nested collections."""
    return "maximum nesting depth" in str(getattr(err, "problem", None) or "")


# PyYAML's pure-Python loader only gives Guild's wording of an error, and it is slow on
# deep nesting: its scanner rescans one possible simple key per flow level for every
# token (1,000 nested "[" take seconds) and its composer recurses per level. It gives up
# (libyaml's wording is used) past this many flow levels or frames.
PY_LOADER_FLOW_LEVELS = 100
PY_LOADER_FRAMES = 400


class _TooDeepForPython(Exception):
    pass


class _WordingLoader(yaml.SafeLoader):
    def save_possible_simple_key(self):
        if len(self.possible_simple_keys) > PY_LOADER_FLOW_LEVELS:
            raise _TooDeepForPython()
        super().save_possible_simple_key()


def _python_loader_error(text: str):
    """The error PyYAML's pure-Python loader gives (Guild's wording), if any."""
    limit = sys.getrecursionlimit()
    depth = 0
    f = sys._getframe()
    while f is not None:
        depth += 1
        f = f.f_back
    try:
        sys.setrecursionlimit(min(limit, depth + PY_LOADER_FRAMES))
        yaml.compose(text, Loader=_WordingLoader)
    except yaml.YAMLError as err:
        return err
    except Exception:  # RecursionError (deeply nested), or a PyYAML bug: libyaml's words then
        return None
    finally:
        sys.setrecursionlimit(limit)
    return None


def compose(text: str, src=None, max_retries: int = 8, lines: Optional[List[str]] = None) -> Composed:
    """Compose ``text`` into positioned nodes; never raises. ``lines``: ``split_lines(text)``
    when the caller has them already."""
    # YAML's marks count lines as YAML breaks them (also on NEL, LS, PS): positions are
    # worked out on its lines and moved onto the editor's at the end (see model.lines)
    ymap = YamlLines.needed(text)
    if ymap is None:
        return _compose(text, split_lines(text) if lines is None else lines, src, max_retries)
    c = _compose(text, ymap.lines, src, max_retries)
    return Composed(c.root, _to_editor_lines(ymap, c.root, c.syntax_errors, c.duplicates), c.duplicates, c.partial)


def _compose(text: str, lines: List[str], src, max_retries: int) -> Composed:
    errors: List[SyntaxProblem] = []
    current = text
    partial = False
    for _attempt in range(max_retries + 1):
        try:
            if _EventParser is not None:
                builder = _EventBuilder(current, src, lines, "&" in current or "!" in current)
                try:
                    root = builder.build()
                except _NotForTheBuilder:
                    pass
                else:
                    if root is None:
                        return Composed(None, errors, [], partial)
                    return Composed(root, errors + builder.errors, builder.duplicates, partial)
            yroot = yaml.compose(current, Loader=_FastLoader)
        except yaml.YAMLError as err:
            if not errors and not _too_deep(err):
                err = _python_loader_error(current) or err
            prob = _syntax_problem(err, lines)
            if _too_deep(err):
                # blanking lines would not make it shallower (each attempt costs a compose
                # of the whole text): the document is not read
                prob = SyntaxProblem(f"{prob.message}: Guild fails to load the file (maximum recursion depth "
                                     "exceeded)", prob.range)
                return Composed(None, errors + [prob] if errors else [prob], [], True)
            if not errors:
                errors.append(prob)
            elif prob.range not in [e.range for e in errors]:
                pass
            partial = True
            mark = getattr(err, "problem_mark", None)
            if mark is None:
                return Composed(None, errors, [], True)
            parts = _line_parts(current)
            n = (len(parts) + 1) // 2
            bad = min(mark.line, n - 1)
            if not parts[2 * bad].strip() or _attempt == max_retries - 1:
                # nothing left to blank on that line: cut the document there
                current = "".join(parts[:max(0, 2 * bad - 1)])
            else:
                parts[2 * bad] = ""
                ctx = getattr(err, "context_mark", None)
                if ctx is not None and ctx.line != bad and ctx.line < n and _attempt >= 2:
                    parts[2 * ctx.line] = ""
                current = "".join(parts)
            continue
        except RecursionError:
            errors.append(SyntaxProblem("document is nested too deeply", Range(0, 0, 0, 1)))
            return Composed(None, errors, [], True)
        except (ValueError, TypeError) as err:  # pragma: no cover - defensive
            errors.append(SyntaxProblem(f"cannot read document: {err}", Range(0, 0, 0, 1)))
            return Composed(None, errors, [], True)
        if yroot is None:
            return Composed(None, errors, [], partial)
        props = "&" in current or "!" in current
        conv = (_Converter if "*" in current else _PlainConverter)(src, lines, props)
        try:
            root = conv.convert(yroot)
        except RecursionError:
            errors.append(SyntaxProblem("document is nested too deeply", Range(0, 0, 0, 1)))
            return Composed(None, errors, [], True)
        return Composed(root, errors + conv.errors, conv.duplicates, partial)
    return Composed(None, errors, [], True)


_YAML_LINES = re.compile(r"(\r\n?|[\n\x85\u2028\u2029])")


def _line_parts(text: str) -> List[str]:
    """YAML's lines with their breaks: ``parts[2 * i]`` is line ``i``, ``parts[2 * i + 1]``
    the break after it."""
    if "\r" in text or any(ch in text for ch in YAML_ONLY_BREAKS):
        return _YAML_LINES.split(text)
    lines = text.split("\n")
    parts = ["\n"] * (2 * len(lines) - 1)
    parts[::2] = lines
    return parts


def _to_editor_lines(ymap: YamlLines, root: Optional[Node], errors: List[SyntaxProblem], duplicates):
    """Move every position from YAML's lines onto the editor's (in place for nodes)."""
    pos = ymap.position
    if root is not None:
        for n in each_node(root, duplicates):
            n.sl, n.sc = pos(n.sl, n.sc)
            n.el, n.ec = pos(n.el, n.ec)
    return [SyntaxProblem(e.message, Range(*pos(e.range.start_line, e.range.start_col),
                                           *pos(e.range.end_line, e.range.end_col))) for e in errors]


def each_node(root: Node, duplicates=()) -> Iterator[Node]:
    """Every node of a composed document once, and those of its ``duplicates`` pairs
    (the earlier key of a repeated one is no longer in the tree)."""
    seen = set()
    for top in [root] + [k for pair in duplicates for k in pair]:
        if id(top) in seen:
            continue
        for n in walk(top):
            if id(n) not in seen:
                seen.add(id(n))
                yield n


def walk(node: Node) -> Iterator[Node]:
    """Every node below ``node`` (each shared alias once)."""
    seen = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        yield n
        if n.kind == MAP:
            for k, v in n.value:
                stack.append(v)
                stack.append(k)
        elif n.kind == SEQ:
            stack.extend(reversed(n.value))


def is_date(value) -> bool:
    return isinstance(value, (datetime.date, datetime.datetime))


def scalar_repr(node: Node) -> str:
    """Python ``repr`` of the node's plain value (used in Guild's messages)."""
    return repr(node.py())
