"""Attribute checks driven by the JSON schema (the one source of attribute names and types).

Walks the document's own nodes (not the merged model, so every report lands once, where
the text is) section by section: unknown keys are warnings with "did you mean", a wrongly
typed value is an error with Guild's own message where Guild rejects it at load
(``x-guild-error``) and a warning where Guild tolerates it.
"""

from __future__ import annotations

from itertools import chain
from operator import itemgetter
from typing import List, Optional

from .. import schema as gschema
from ..model import ERROR, HINT, WARNING, Guildfile, Problem
from ..model.chunks import common_ends
from ..model.nodes import MAP, SCALAR, SEQ, Node, Range
from .memo import freeze
from .suggest import did_you_mean, suggest

# Item types recognised in the full format.
_ITEM_SECTIONS = {"model": "model", "config": "model", "package": "package", "include": "include"}
_OLD_FORMAT_KEYS = {"model", "operations", "resources", "description"}

_JSON_NAMES = {
    "string": "a string", "integer": "an integer", "number": "a number", "boolean": "a boolean",
    "array": "a list", "object": "a mapping", "null": "null",
}


def _type_words(types) -> str:
    words = [_JSON_NAMES.get(t, t) for t in types]
    if not words:
        return "another value"
    return ", ".join(words[:-1]) + (" or " if len(words) > 1 else "") + words[-1]


_MEMO = {}
_ENUM_CLASSES = frozenset((str, type(None)))  # the classes of the values in Attr.scalar_ok_values


def _is_valid(attr, value) -> bool:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return attr.is_valid(value)  # scalars: answered or memoized by the checker itself
    key = freeze(value)
    if key is None:
        return attr.is_valid(value)
    key = (id(attr), key)
    r = _MEMO.get(key)
    if r is None:
        if len(_MEMO) > 20000:
            _MEMO.clear()
        r = _MEMO[key] = attr.is_valid(value)
    return r


class _OpRepr:
    """Guild's repr of an operation's data (operation-defaults added), made when a message
    needs it."""

    def __init__(self, node: Node, defaults: Optional[Node]):
        self.node, self.defaults = node, defaults

    def __str__(self):
        data = self.node.py()
        if self.defaults is not None and self.defaults.kind == MAP:
            for k, v in self.defaults.py().items():
                data.setdefault(k, v)
        return repr(data)


# the entry of a `$include` among operations (not checked) in _Walker.operations
_SKIPPED: list = [None, (), 0, (None, 0, 0)]


class _Walker:
    def __init__(self, gf: Guildfile):
        self.gf = gf
        self.out: List[Problem] = []
        # what Guild names in its messages: {resource} ('model:res', 'model:<inline>') and
        # {op_repr} (the operation's data with operation-defaults added)
        self.context: dict = {}
        self.model_name = ""

    def add(self, code, sev, msg, node_or_range, data=None):
        rng = node_or_range.range if isinstance(node_or_range, Node) else node_or_range
        self.out.append(Problem(code, sev, msg, rng, data))

    # ---------------------------------------------------------------------------------
    def mapping(self, node: Node, section_name: str, skip=(), where: str = ""):
        """Check the keys and values of one mapping against a schema section."""
        if node.kind != MAP or node.src is not None:  # (not node.local, without a call)
            return
        sec = gschema.section(section_name)
        attrs = sec.attrs
        title = None
        for k, v in node.value:
            if k.kind != SCALAR:
                continue
            key = k.value  # (a scalar: hashable)
            attr = attrs.get(key)  # (the attributes' names are strings: a key found is one)
            if attr is None:
                if key in skip or not isinstance(key, str):
                    continue
                if key in sec.ignored:
                    self.add("ignored-attribute", HINT, f"'{key}' is ignored by Guild here: {sec.ignored[key]}", k)
                    continue
                # never suggest a key the mapping already has: that would make a duplicate
                sugs = suggest(key, sec.names)
                if sugs:
                    sugs = [x for x in sugs if x not in node]
                if title is None:
                    title = (where or sec.title or section_name).lower()
                # (many unknown keys are possible: the problem is made here, not by add)
                self.out.append(Problem("unknown-attribute", WARNING,
                                        f"unknown {title} attribute '{key}'" + did_you_mean(sugs),
                                        Range(k.sl, k.sc, k.el, k.ec), {"suggestions": sugs}))
                continue
            if skip and key in skip:
                continue
            if v.kind == SCALAR:
                val = v.value
                if val.__class__ in attr.scalar_ok or (val.__class__ in _ENUM_CLASSES and val in attr.scalar_ok_values):
                    continue  # valid (what value() would find, without the calls)
            self.value(attr, v, key)

    def value(self, attr, v: Node, key: str):
        if v.src is not None:  # not the document's own
            return
        scalar = v.kind == SCALAR
        py = v.value if scalar else v.py()
        if scalar and isinstance(py, str) and ("{{" in py):
            return  # params are substituted before Guild reads the value
        try:
            # (a scalar: what _is_valid would do)
            ok = attr.is_valid(py) if scalar else _is_valid(attr, py)
        except Exception:  # unhashable or exotic values: let jsonschema decide slowly
            ok = True
        if ok:
            if not scalar:  # nothing to check below a scalar
                self.descend(attr, v)
            return
        try:
            msg = attr.load_error(py, **self.context)
        except Exception:  # pragma: no cover - defensive
            msg = None
        if msg:
            self.add("invalid-type", ERROR, msg, v)
            return
        if attr.section_ref and v.kind in (MAP, SEQ):
            # Guild loads it; the nested checks say precisely what is off
            self.descend(attr, v)
            return
        extra = (f"one of {', '.join(map(str, attr.enum))}" if attr.enum and "enum" in attr.subschema
                 else _type_words(attr.types))
        self.add("invalid-type", WARNING, f"'{key}' should be {extra} (Guild may ignore or misread this value)", v)

    def descend(self, attr, v: Node):
        ref = attr.section_ref
        if not ref or ref == "optimizer":
            return  # optimizer mappings hold optimizer flags: any key is legal
        if attr.name in ("sourcecode", "select", "files"):
            self.sourcecode(v)
            return
        if v.kind == MAP:
            if attr.name in ("flags", "operations", "resources", "params", "env", "extra",
                             "run-attrs", "arg-encoding", "env-encoding", "packages"):
                self.mapping_of(v, ref, attr.name)
            else:
                self.mapping(v, ref)
        elif v.kind == SEQ:
            for item in v.value:
                if item.kind == MAP:
                    self.mapping(item, ref)

    def mapping_of(self, node: Node, ref: str, attr_name: str):
        """A mapping name -> section (flags, operations, resources)."""
        for k, v in node.value:
            if k.value == "$include":
                continue
            if ref == "operation":
                self.operation(v)
            elif ref == "flag":
                if v.kind == MAP:
                    self.mapping(v, "flag")
                    ch = v.get("choices")
                    if ch is not None and ch.kind == SEQ:
                        for c in ch.value:
                            if c.kind == MAP:
                                self.mapping(c, "choice")
            elif ref == "resource":
                self.context["resource"] = f"{self.model_name}:{k.value}"
                if v.kind == MAP:
                    self.mapping(v, "resource")
                    self.sources(v.get("sources"))
                elif v.kind == SEQ:
                    self.sources(v)
            elif v.kind == MAP:
                self.mapping(v, ref)

    def sourcecode(self, v: Node):
        if v.kind == MAP:
            self.mapping(v, "sourcecode", skip=("select",))
            sel = v.get("select")
            if sel is not None:
                if sel.kind == SCALAR and sel.local and not isinstance(sel.value, (str, bool)) and sel.value is not None:
                    self.add("invalid-type", ERROR,
                             f"invalid select files spec {sel.value!r}: expected a string, list, or mapping", sel)
                self.sourcecode(sel)
        elif v.kind == SEQ:
            for rule in v.value:
                if rule.kind == MAP:
                    self.mapping(rule, "sourcecode-rule")
                    if not rule.local:
                        continue
                    has_inc, has_exc = "include" in rule, "exclude" in rule
                    if has_inc and has_exc:
                        self.add("invalid-type", ERROR,
                                 f"invalid file select spec {rule.py()!r}: cannot include both include and exclude "
                                 "- use multiple select specs in the order you want to apply the filters", rule)
                    elif not has_inc and not has_exc:
                        self.add("invalid-type", ERROR, f"unsupported file select spec: {rule.py()!r}", rule)

    def sources(self, node: Optional[Node]):
        if node is None or node.kind != SEQ:
            return
        for s in node.value:
            if s.kind == MAP:
                self.mapping(s, "source")

    def operation(self, v: Node, defaults: Optional[Node] = None):
        if v.kind != MAP:
            return
        self.context["op_repr"] = _OpRepr(v, defaults)
        self.context["resource"] = f"{self.model_name}:<inline>"
        self.mapping(v, "operation", skip=("flags", "steps", "requires"))
        sec = gschema.section("operation")
        for key in ("flags", "steps", "requires"):
            pair = v.get_pair(key)
            if pair is None:
                continue
            attr = sec.get(key)
            val = pair[1]
            if attr is None:
                continue
            if key == "flags":
                if val.kind == MAP:
                    self.mapping_of(val, "flag", "flags")
                else:
                    self.value(attr, val, key)
            elif key == "steps":
                if val.kind == SEQ:
                    for st in val.value:
                        if st.kind == MAP:
                            self.step(st)
                elif not (val.kind == MAP and not val.value) and not val.is_null:
                    self.value(attr, val, key)
            elif key == "requires":
                items = val.value if val.kind == SEQ else [val]
                for it in items:
                    if it.kind == MAP:
                        self.mapping(it, "dependency")
                        self.sources(it.get("sources"))

    def operation_memo(self, v: Node, defaults: Optional[Node] = None):
        """`operation(v)`, remembered per node in the document's cache: the check reads
        nothing but the node (and its item's operation-defaults and model name, in the same
        top-level entry), and a node reused from the last version (same text) gives the
        same problems, moved with it."""
        memo = self.gf.chunks
        if memo is None:
            self.operation(v, defaults)
            return None
        key = ("schema-operation", id(v))
        e = memo.recall_entry(key, v)
        if e is not None:
            self.out.extend(e[1])
            return e
        n = len(self.out)
        self.operation(v, defaults)
        found = self.out[n:]
        return memo.remember(key, v, found, found)  # the problems move with the node

    def operations(self, pairs, defaults: Optional[Node], skey: tuple):
        """`operation_memo` of the value of each (key, value) of `pairs` (but `$include`),
        taking again by position the problems of the pairs the last version checked
        (`skey`: which mapping of operations) before and after the part that changed (the
        same tuple objects: the composer reuses an unchanged entry's pair, model/chunks.py),
        a run at a time: what recall() would give for those nodes (when lines moved since,
        `shifts`, each node is asked whether it moved with what was remembered)."""
        memo = self.gf.chunks
        if memo is None:
            for k, v in pairs:
                if k.value != "$include":
                    self.operation(v, defaults)
            return
        states = memo.state.setdefault("schema-positions", {})
        prev = states.pop(skey, None)
        a = b = 0
        if prev is not None:
            a, b = common_ends(pairs, prev[1])
        entries: list = []
        if a:
            self._take(prev, 0, a, entries, defaults)
        for k, v in pairs[a:len(pairs) - b]:
            entries.append(self.operation_memo(v, defaults) if k.value != "$include" else _SKIPPED)
        if b:
            n = len(prev[2])
            self._take(prev, n - b, n, entries, defaults)
        if None not in entries:
            states[skey] = (memo.shifts, list(pairs), entries)

    def _take(self, prev: tuple, lo: int, hi: int, into: list, defaults: Optional[Node]):
        """The problems `prev` (_operations' state) found at positions lo..hi, in order;
        when lines moved since, those whose nodes did not move with them are checked again."""
        memo = self.gf.chunks
        moved = memo.moved_away(prev[2][lo:hi], lo) if prev[0] != memo.shifts else []
        at = lo
        for h in moved + [hi]:
            if h > at:
                run = prev[2][at:h]
                self.out.extend(chain.from_iterable(map(itemgetter(1), run)))
                memo.touch(run)
                into += run
            if h < hi:
                into.append(self.operation_memo(prev[1][h][1], defaults))
            at = h + 1

    def step(self, st: Node):
        self.mapping(st, "step", skip=("flags", "expect"))
        exp = st.get("expect")
        if exp is not None:
            for it in (exp.value if exp.kind == SEQ else [exp]):
                if it.kind == MAP:
                    self.mapping(it, "check")

    # ---------------------------------------------------------------------------------
    def run(self):
        gf = self.gf
        root = gf.root
        if root is None or not root.local:
            return self.out
        if gf.format == "operations":
            oldish = "operations" in root or ("model" in root and root.get("model").kind == SCALAR)
            if oldish:
                old = [k for k, v in root.value if k.kind == SCALAR and k.value in _OLD_FORMAT_KEYS and
                       (k.value != "model" or v.kind == SCALAR) and (k.value != "operations" or v.kind == MAP)]
                k = next(k for k, _ in root.value if k.kind == SCALAR and k.value in ("operations", "model"))
                self.add("old-format", WARNING,
                         "this file is a mapping, so Guild reads every top-level key as an operation name "
                         f"({', '.join(repr(x.value) for x in old)} included); write a list of '- model:' items "
                         "to define a model", k)
                for k, v in root.value:
                    if k.kind != SCALAR or k.value not in _OLD_FORMAT_KEYS:
                        self.operation(v)
                return self.out
            self.operations(root.value, None, ("", "model"))
        elif gf.format == "full":
            for item in root.value:
                if item.kind != MAP:
                    continue
                types = [t for t in ("config", "include", "model", "package") if t in item]
                if len(types) != 1:
                    if not types and "operations" in item:
                        types = ["model"]
                    else:
                        continue
                sec = _ITEM_SECTIONS[types[0]]
                name = item.get(types[0]) if types[0] in ("model", "config") else None
                self.model_name = name.value if name is not None and isinstance(name.value, str) else ""
                self.mapping(item, sec, skip=("operations", "resources", "operation-defaults"))
                ops = item.get("operations")
                od = item.get("operation-defaults")
                if ops is not None and ops.kind == MAP:
                    self.operations(ops.value, od, (types[0], self.model_name))
                res = item.get("resources")
                if res is not None and res.kind == MAP:
                    self.mapping_of(res, "resource", "resources")
                if od is not None and od.kind == MAP:
                    self.operation(od)
        return self.out


def check(gf: Guildfile) -> List[Problem]:
    return _Walker(gf).run()
