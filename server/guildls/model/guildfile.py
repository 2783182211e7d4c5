"""The positioned Guild file model.

``load(text, path)`` turns a document into models, operations, flags, steps, resources
and ``${ref}`` references, each keeping the source ranges of its key and value. It never
raises: load-time errors Guild would report are collected in ``Guildfile.problems`` with
Guild's own wording, and a document that does not parse still yields what came before
the error.
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Dict, Iterator, List, Optional, Tuple

from . import packages, runspec
from .chunks import ChunkCache, common_ends, compose_chunked
from .collector import collector_paused
from .files import MAX_FILE_BYTES, FileRefused, read_bytes, read_text, too_large_message
from .lines import split_lines
from .nodes import MAP, SCALAR, SEQ, Node, Range, compose, derived, is_date, safe_load
from .textpos import sub_range

ERROR, WARNING, INFO, HINT = "error", "warning", "information", "hint"

ITEM_TYPES = ("config", "include", "model", "package")
INHERITED_MODEL_ATTRS = (
    "description", "extra", "flags", "operation-defaults", "operations", "params",
    "references", "resources", "sourcecode",
)
REF_RE = re.compile(r"(?<!\\)\$\{([^}]*)\}")
PARAM_RE = re.compile(r"\{\{\s*([^}\s]*)\s*\}\}")
# Guild's `$include` reference forms, matched (not fully) in this order
_INCLUDE_REF_P1 = re.compile(r"([^:#]*):([^#]+)(?:#(.+))?")
_INCLUDE_REF_P2 = re.compile(r"([^:#]+)(?:#(.+))?")
# in the order Guild lists them in its messages
SOURCE_TYPES = ("config", "file", "module", "url", "operation", "dvcfile", "dvcstage")


def _down(r: Optional[Range], delta: int) -> Optional[Range]:
    return None if r is None else Range(r.start_line + delta, r.start_col, r.end_line + delta, r.end_col)


# The objects below that hold lines have a ``shift_lines(delta)``: remembered for a top-level
# entry of the document that moved (lines inserted or deleted above it, see chunks.py), they
# move with its nodes instead of being made again.
@dataclass
class Problem:
    code: str
    severity: str
    message: str
    range: Range
    data: Any = None  # e.g. suggestions for quick fixes

    def shift_lines(self, delta: int) -> None:
        self.range = _down(self.range, delta)
        if isinstance(self.data, dict):
            for k, v in self.data.items():
                if isinstance(v, Range):
                    self.data[k] = _down(v, delta)


@dataclass
class Ref:
    """A ``${name}`` reference inside a string value."""

    name: str
    range: Range
    context: str  # 'step', 'step-flag', 'exec', 'main', 'env', 'label', 'requires'
    operation: "Operation"

    def shift_lines(self, delta: int) -> None:
        self.range = _down(self.range, delta)


@dataclass
class Flag:
    name: str
    operation: Optional["Operation"]
    key: Optional[Node]
    value: Optional[Node]
    attrs: Dict[str, Any] = field(default_factory=dict)
    origin: str = "guildfile"  # or 'resource', or 'script' (imported from the main module)
    # where the main script defines it: (path, line, column), 0-based
    source: Optional[Tuple[str, int, int]] = None

    @property
    def default(self):
        return self.attrs.get("default")

    @property
    def type(self):
        return self.attrs.get("type")

    @property
    def description(self):
        d = self.attrs.get("description")
        return d.strip() if isinstance(d, str) else d

    @property
    def choices(self) -> Optional[List[Any]]:
        ch = self.attrs.get("choices")
        if not isinstance(ch, list):
            return None
        out = []
        for c in ch:
            out.append(c.get("value") if isinstance(c, dict) else c)
        return out

    @property
    def choice_aliases(self) -> List[Any]:
        ch = self.attrs.get("choices")
        if not isinstance(ch, list):
            return []
        return [c["alias"] for c in ch if isinstance(c, dict) and "alias" in c]

    @property
    def min(self):
        return self.attrs.get("min")

    @property
    def max(self):
        return self.attrs.get("max")

    @property
    def required(self):
        return bool(self.attrs.get("required"))

    @property
    def allow_other(self):
        return bool(self.attrs.get("allow-other"))

    @property
    def alias(self):
        return self.attrs.get("alias")

    @property
    def arg_name(self):
        return self.attrs.get("arg-name")

    @property
    def arg_skip(self):
        return self.attrs.get("arg-skip")

    @property
    def arg_switch(self):
        return self.attrs.get("arg-switch")

    @property
    def env_name(self):
        return self.attrs.get("env-name")

    @property
    def key_range(self) -> Optional[Range]:
        return self.key.range if self.key is not None and self.key.local else None


@dataclass
class FlagAssign:
    name: str
    value: Any
    text: str
    name_range: Range
    value_range: Range

    def shift_lines(self, delta: int) -> None:
        self.name_range = _down(self.name_range, delta)
        self.value_range = _down(self.value_range, delta)


@dataclass
class Check:
    kind: str  # 'output' | 'file' | 'unknown'
    pattern: Any
    contains: Any = None
    compare_to: Any = None
    node: Optional[Node] = None


@dataclass
class Step:
    operation: "Operation"
    index: int
    node: Node
    run: Optional[str] = None
    run_node: Optional[Node] = None
    opspec: Optional[str] = None
    opspec_range: Optional[Range] = None
    name: Optional[str] = None
    assigns: List[FlagAssign] = field(default_factory=list)
    flags_map: Optional[List[FlagAssign]] = None
    flags_node: Optional[Node] = None
    options: Dict[str, Any] = field(default_factory=dict)
    batch_files: List[str] = field(default_factory=list)
    expect: List[Check] = field(default_factory=list)
    isolate_runs: bool = True
    problems: List[Problem] = field(default_factory=list)

    @property
    def effective_assigns(self) -> List[FlagAssign]:
        """The flag assignments Guild uses: ``flags:`` replaces those in ``run``."""
        return self.flags_map if self.flags_map is not None else self.assigns

    @property
    def display_name(self) -> Optional[str]:
        return self.name if self.name else self.opspec

    def shift_lines(self, delta: int) -> None:
        self.opspec_range = _down(self.opspec_range, delta)  # its problems and assigns move alone

    @property
    def range(self) -> Range:
        return self.node.range


@dataclass
class Source:
    kind: str  # one of SOURCE_TYPES or 'unknown'
    spec: Any
    attrs: Dict[str, Any]
    node: Node
    spec_node: Optional[Node]


@dataclass
class Dependency:
    """One item of an operation's ``requires``."""

    kind: str  # 'resource' (named) | 'inline'
    node: Node
    resource: Optional[str] = None  # named resource spec
    sources: List[Source] = field(default_factory=list)
    attrs: Dict[str, Any] = field(default_factory=dict)

    @property
    def operation_sources(self) -> List[Source]:
        return [s for s in self.sources if s.kind == "operation"]


@dataclass
class Resource:
    name: str
    model: "Model"
    key: Node
    node: Node
    sources: List[Source] = field(default_factory=list)
    attrs: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Operation:
    name: str
    model: "Model"
    key: Node
    node: Node  # the mapping (after coercion, merge and defaults)
    flags: Dict[str, Flag] = field(default_factory=dict)
    flags_node: Optional[Node] = None
    flags_open: bool = False
    steps: Optional[List[Step]] = None
    steps_node: Optional[Node] = None
    requires: List[Dependency] = field(default_factory=list)
    origin: Optional[str] = None  # name of the model/config it was inherited from

    @property
    def fullname(self) -> str:
        return f"{self.model.name}:{self.name}" if self.model.name else self.name

    def attr(self, key) -> Optional[Node]:
        return self.node.get(key) if self.node.kind == MAP else None

    def value(self, key, default=None):
        n = self.attr(key)
        return n.py() if n is not None else default

    @property
    def description(self) -> Optional[str]:
        d = self.value("description")
        return d.strip() if isinstance(d, str) else None

    @property
    def main(self) -> Optional[str]:
        v = self.value("main")
        return v if isinstance(v, str) and v else None

    @property
    def exec(self) -> Optional[str]:
        v = self.value("exec")
        return v if isinstance(v, str) and v else None

    @property
    def is_workflow(self) -> bool:
        return bool(self.steps) and not self.exec and not self.main

    @property
    def flags_dest(self) -> str:
        v = self.value("flags-dest")
        return v if isinstance(v, str) else "args"

    @property
    def label(self):
        return self.value("label")

    @property
    def tags(self):
        return self.value("tags")

    @property
    def env(self) -> Dict[str, Any]:
        v = self.value("env")
        return v if isinstance(v, dict) else {}

    @property
    def key_range(self) -> Optional[Range]:
        return self.key.range if self.key.local else None

    @property
    def local(self) -> bool:
        return self.key.local and self.origin is None

    def find_flag(self, name: str) -> Optional[Flag]:
        f = self.flags.get(name)
        if f is not None:
            return f
        for f in self.flags.values():
            if f.alias == name:
                return f
        return None


@dataclass
class Model:
    name: str
    kind: str  # 'model' | 'config' | 'anonymous'
    node: Node  # the item mapping (root mapping for operation-only files)
    name_node: Optional[Node] = None
    operations: Dict[str, Operation] = field(default_factory=dict)
    resources: Dict[str, Resource] = field(default_factory=dict)
    params: Dict[str, Any] = field(default_factory=dict)
    parents: List[str] = field(default_factory=list)
    open: bool = False  # inherits from something we cannot see (a package)
    data: Optional[Node] = None  # merged item data
    merged: Optional[Node] = None  # merged item data before {{ params }} are put in

    @property
    def description(self) -> Optional[str]:
        d = self.data.get("description") if self.data is not None else None
        v = d.py() if d is not None else None
        return v.strip() if isinstance(v, str) else None


@dataclass
class Guildfile:
    path: Optional[str]
    text: str
    lines: List[str]
    root: Optional[Node]
    format: str = "empty"  # 'empty' | 'operations' | 'full' | 'invalid'
    models: Dict[str, Model] = field(default_factory=dict)
    configs: Dict[str, Model] = field(default_factory=dict)
    items: List[Tuple[str, Node]] = field(default_factory=list)  # (type, item node)
    problems: List[Problem] = field(default_factory=list)
    refs: List[Ref] = field(default_factory=list)
    partial: bool = False
    includes: List[str] = field(default_factory=list)
    chunks: Optional[ChunkCache] = None  # the document's cache (incremental parse, analysis memo)
    # the operations whose flags this load read from their script (import_script_flags; the
    # script may change while the guild file does not: their checks are never remembered)
    script_read: List[Operation] = field(default_factory=list)

    @property
    def dir(self) -> str:
        return os.path.dirname(os.path.abspath(self.path)) if self.path else os.getcwd()

    def operations(self) -> Iterator[Operation]:
        for m in self.models.values():
            yield from m.operations.values()

    def local_operations(self) -> Iterator[Operation]:
        """Operations defined (or written) in this document, models and configs."""
        seen = set()
        for m in list(self.models.values()) + list(self.configs.values()):
            for op in m.operations.values():
                if op.key.local and id(op.key) not in seen:
                    seen.add(id(op.key))
                    yield op

    @property
    def default_model(self) -> Optional[Model]:
        if len(self.models) == 1:
            return next(iter(self.models.values()))
        for m in self.models.values():
            d = m.data.get("default") if m.data is not None else None
            if d is not None and d.value is True:
                return m
        return None

    def models_matching(self, ref: str) -> List[Model]:
        if ref in self.models:
            return [self.models[ref]]
        return [m for name, m in self.models.items() if ref and ref in name]

    def find_operation(self, opspec: str, from_model: Optional[Model] = None) -> Optional[Operation]:
        """Resolve an op spec as a step or ``guild run`` would (None if not found)."""
        if not opspec:
            return None
        if "/" in opspec:
            opspec = opspec.split("/", 1)[1]
        if ":" in opspec:
            mref, opname = opspec.split(":", 1)
            if not mref:
                m = self.models.get("")
                return m.operations.get(opname) if m else None
            models = self.models_matching(mref)
            if len(models) != 1:
                return None
            return models[0].operations.get(opname)
        if from_model is not None:
            return from_model.operations.get(opspec)
        m = self.default_model
        if m is not None and opspec in m.operations:
            return m.operations[opspec]
        for m in self.models.values():
            if opspec in m.operations:
                return m.operations[opspec]
        return None

    def dispose(self) -> None:
        """Break the model's reference cycles (operation <-> model, flag/step -> operation)
        so that a replaced model is freed at once by reference counting instead of by
        Python's cyclic collector, whose full scans cost hundreds of milliseconds on big
        files. Only call it when nothing else uses this Guildfile any more."""
        for m in list(self.models.values()) + list(self.configs.values()):
            for op in m.operations.values():
                if op.model is not m:
                    continue  # reused by a newer version of the document (see _build_operation)
                op.flags.clear()
                op.steps = None
                op.requires = []
            m.operations.clear()
            m.resources.clear()
        self.models.clear()
        self.configs.clear()
        self.refs.clear()

    def operation_at(self, line: int) -> Optional[Operation]:
        best = None
        for op in self.local_operations():
            r = op.key.range
            if r.start_line <= line and (op.node.el >= line or op.node.sl == op.node.el) and op.node.local:
                if best is None or r.start_line >= best.key.range.start_line:
                    best = op
        return best


# ---------------------------------------------------------------------------------
# loading


# problems that make Guild refuse the file that extends a package whose file has them
_FATAL_IN_PACKAGE = ("extends-error", "extends-cycle")
_MAX_PACKAGE_DEPTH = 32


class _Loader:
    def __init__(self, text: str, path: Optional[str], include_stack: Tuple[str, ...] = (),
                 extends_seen: Tuple[str, ...] = (), src: Optional[str] = None):
        self.text = text
        self.path = path
        self.include_stack = include_stack
        self.open_includes = False
        self.chunks: Optional[ChunkCache] = None
        self.gf: Guildfile
        self._extends_memo: Dict[Tuple[str, str], Node] = {}
        self._extends_cycles = 0
        self._extends_too_deep = False
        # loading another package's file for `extends: pkg/model`: Guild's chain of names
        # so far, the file as node source (its nodes are not the analysed document's), and
        # what would make Guild refuse the extending file
        self.extends_seen = extends_seen
        self.src = src
        self.fatal: List[str] = []
        self.package_models: List[Guildfile] = []  # package files this one extends

    def problem(self, code, severity, message, node_or_range, data=None):
        if code in _FATAL_IN_PACKAGE and severity == ERROR:
            self.fatal.append(message)
        if isinstance(node_or_range, Node):
            if not node_or_range.local:
                return
            rng = node_or_range.range
        else:
            rng = node_or_range
        self.gf.problems.append(Problem(code, severity, message, rng, data))

    def error(self, message, node, code="invalid-type"):
        self.problem(code, ERROR, message, node)

    # -----------------------------------------------------------------------------
    def load(self) -> Guildfile:
        lines = split_lines(self.text)
        if self.chunks is None:
            composed = compose(self.text, self.src, lines=lines)
        else:
            composed = compose_chunked(self.text, self.chunks, src=self.src)
        gf = self.gf = Guildfile(self.path, self.text, lines, composed.root, partial=composed.partial)
        gf.chunks = self.chunks
        for sp in composed.syntax_errors:
            gf.problems.append(Problem("yaml-syntax", ERROR, sp.message, sp.range))
        for first, dup in composed.duplicates:
            gf.problems.append(
                Problem("duplicate-key", WARNING,
                        f"duplicate key '{dup.value}': this value replaces the one on line {first.sl + 1}",
                        dup.range, {"first": first.range})
            )
        root = composed.root
        if root is None or root.is_null:
            gf.format = "empty"
            return gf
        if root.kind == MAP:
            gf.format = "operations"
            m = Model("", "anonymous", root, None)
            m.data = Node(MAP, [(derived(root, "operations"), root)], root.sl, root.sc, root.el, root.ec)
            gf.models[""] = m
            gf.items.append(("model", root))
            self._build_model(m, m.data)
            return gf
        if root.kind == SEQ:
            gf.format = "full"
            self._load_items(root)
            return gf
        gf.format = "invalid"
        self.error(f"invalid guildfile data {root.py()!r}: expected a mapping", root)
        return gf

    def _load_items(self, root: Node):
        gf = self.gf
        items: List[Tuple[str, Node]] = []
        packages = 0
        for item in root.value:
            if item.kind != MAP:
                if item.is_null:
                    self.error("invalid guildfile item: expected a mapping with one of model, config, package or include", item)
                else:
                    self.error(f"invalid guildfile item {item.py()!r}: expected a mapping with one of model, config, package or include", item)
                continue
            types = [t for t in ITEM_TYPES if t in item]
            if "operations" in item and not any(t in item for t in ("model", "config")):
                if "package" in item:
                    shown = dict(item.py(), model="")
                    if isinstance(shown.get("operations"), dict):
                        shown["operations"] = {k: ({"main": v} if isinstance(v, str) else v)
                                               for k, v in shown["operations"].items()}
                    self.error(f"multiple types (model, package) in {shown!r}", item, "multiple-types")
                    continue
                items.append(("model", item))
                continue
            if not types:
                self.error(
                    f"missing required type (one of: config, include, model, package) in {item.py()!r}",
                    item, "missing-type")
                continue
            if len(types) > 1:
                self.error(f"multiple types ({', '.join(types)}) in {item.py()!r}", item, "multiple-types")
                continue
            t = types[0]
            tk, tv = item.get_pair(t)
            if t == "include":
                items.extend(self._include(tv))
                continue
            if not isinstance(tv.value, str) or tv.kind != SCALAR:
                self.error(f"invalid {t} name ${tv.py()!r}: expected a string", tv)
                continue
            if t == "package":
                packages += 1
                if packages > 1:
                    self.error("mutiple package definitions", tk, "multiple-packages")
            items.append((t, item))
        gf.items = items
        # models and configs
        named: Dict[str, Tuple[str, Node]] = {}
        for t, item in items:
            if t not in ("model", "config"):
                continue
            nn = item.get(t)
            name = nn.value if nn is not None else ""
            if t == "model":
                if name in gf.models:
                    self.error(f"duplicate model '{name}'", nn if nn is not None else item, "duplicate-model")
                    continue
                m = Model(name, "model", item, nn)
                gf.models[name] = m
            else:
                m = Model(name, "config", item, nn)
                gf.configs.setdefault(name, m)
            named.setdefault(name, (t, item))
        # resolve extends, then build
        for m in list(gf.models.values()) + list(gf.configs.values()):
            m.data = m.merged = self._resolve_extends(m, [])
        for m in list(gf.configs.values()) + list(gf.models.values()):
            self._build_model(m, m.data)

    # includes ----------------------------------------------------------------------
    def _include(self, tv: Node, anchor: Optional[Node] = None) -> List[Tuple[str, Node]]:
        names = [tv] if tv.kind == SCALAR else (tv.value if tv.kind == SEQ else None)
        if names is None or any(not isinstance(n.value, str) for n in names):
            self.error(f"invalid include value {tv.py()!r}: expected a string or list", tv)
            return []
        out = []
        base = os.path.dirname(os.path.abspath(self.path)) if self.path else None
        for n in names:
            name = n.value
            at = anchor if anchor is not None else n
            target = os.path.normpath(os.path.join(base, name)) if base else None
            if target and os.path.isdir(target):
                for cand in ("guild.yml", "guild.yaml"):
                    if os.path.isfile(os.path.join(target, cand)):
                        target = os.path.join(target, cand)
                        break
            if base is not None and (not target or not os.path.exists(target)):
                target = packages.include_guildfile(name, base) or target
            if not target or not os.path.isfile(target):
                if base is None:
                    continue
                looks_like_file = name.endswith((".yml", ".yaml")) or "/" in name or name.startswith(".")
                msg = (f"cannot find include '{name}' (includes must be local to including Guild file "
                       "or a Guild package on the system path)")
                if looks_like_file:
                    self.problem("include-error", ERROR, msg, at)
                else:
                    # may be a Guild package on the Python path: we cannot see it
                    self.open_includes = True
                    self.problem("include-error", WARNING, msg + ": no such file here, and no Guild package "
                                 f"'{name}' in this project, its sibling projects or the interpreter's sys.path "
                                 "(Guild refuses this file unless the package is installed where it runs)", at)
                continue
            me = os.path.abspath(self.path) if self.path else None
            stack = self.include_stack + ((me,) if me else ())
            if target in stack:
                # Guild's chain starts at the root file, not where the cycle starts
                chain = " -> ".join(_shown_path(p) for p in stack + (target,))
                self.problem("include-error", ERROR,
                             f"cycle in 'includes': {_shown_path(stack[0])} ({chain})", at)
                continue
            try:
                text = read_text(target)
                if text.startswith("\ufeff"):
                    text = text[1:]
            except OSError as e:
                self.problem("include-error", ERROR, f"cannot read include '{name}': {e.strerror or e}", n)
                continue
            except UnicodeDecodeError as e:
                self.problem("include-error", ERROR,
                             f"cannot read include '{name}': not valid UTF-8 ({e.reason} at byte {e.start})", n)
                continue
            sub = _Loader(text, target, stack)
            sub.open_includes = False
            comp = compose(text, src=target)
            self.gf.includes.append(target)
            if comp.syntax_errors or comp.root is None or comp.root.kind != SEQ:
                if comp.syntax_errors:
                    self.problem("include-error", ERROR,
                                 f"error in included file '{name}': {comp.syntax_errors[0].message}", at)
                continue
            for item in comp.root.value:
                if item.kind != MAP:
                    continue
                types = [t for t in ITEM_TYPES if t in item]
                if len(types) != 1:
                    continue
                if types[0] == "include":
                    sub.gf = self.gf
                    for it in sub._include(item.get("include"), at):
                        out.append(it)
                    self.open_includes |= sub.open_includes
                else:
                    out.append((types[0], item))
        return out

    # extends -------------------------------------------------------------------------
    def _resolve_extends(self, m: Model, chain: List[str]) -> Node:
        # each model's merged data once per load (a chain of n models would otherwise be
        # merged n*n/2 times), except where a cycle made the result depend on the path
        key = (m.kind, m.name)
        memo = self._extends_memo.get(key)
        if memo is not None:
            return memo
        cycles = self._extends_cycles
        merged = self._resolve_extends_(m, chain)
        if self._extends_cycles == cycles:
            self._extends_memo[key] = merged
        return merged

    def _resolve_extends_(self, m: Model, chain: List[str]) -> Node:
        item = m.node
        ext = item.get("extends")
        if ext is None or ext.is_null:
            return item
        if ext.kind == SCALAR and isinstance(ext.value, str):
            val = ext.value.strip()
            if val.startswith("["):
                import yaml

                try:
                    parsed = safe_load(val)
                except yaml.YAMLError:
                    parsed = [val]
                names = [(str(p), ext) for p in (parsed or [])]
            else:
                names = [(val, ext)]
        elif ext.kind == SEQ and all(n.kind == SCALAR and isinstance(n.value, str) for n in ext.value):
            names = [(n.value, n) for n in ext.value]
        else:
            self.error(f"invalid extends value {ext.py()!r}: expected a string or list", ext)
            return item
        merged = item
        key = (m.kind, m.name)
        # Guild's chain of names (its `extends_seen`): names resolved above this model
        seen = list(self.extends_seen) + [n for _, n in chain[1:]] + ([m.name] if chain else [])
        for pname, pnode in names:
            m.parents.append(pname)
            if "/" in pname:
                if pname.endswith("/"):
                    self.error(f"invalid model or config reference '{pname}': missing model name", pnode, "extends-error")
                    m.open = True
                    continue
                pdata = self._package_parent(pname, pnode, seen)
                if pdata is None:
                    m.open = True
                    continue
                inherited = [(k, v) for k, v in pdata.items() if k.value in INHERITED_MODEL_ATTRS]
                if inherited:
                    pseudo = Node(MAP, inherited, pdata.sl, pdata.sc, pdata.el, pdata.ec, src=pdata.src)
                    merged = merge(merged, pseudo, origin=pname)
                continue
            parent = self.gf.models.get(pname) or self.gf.configs.get(pname)
            if parent is None and self.open_includes:
                m.open = True
                continue
            if parent is None:
                self.error(f"undefined model or config '{pname}'", pnode, "extends-error")
                continue
            pkey = (parent.kind, parent.name)
            if len(chain) >= MAX_EXTENDS_DEPTH:
                if not self._extends_too_deep:
                    self._extends_too_deep = True
                    self.error(f"'extends' chain deeper than {MAX_EXTENDS_DEPTH} levels: Guild fails to load "
                               "the file (maximum recursion depth exceeded)", pnode, "extends-error")
                continue
            if pkey in chain or pkey == key:
                if self.extends_seen:  # in another package's file: Guild's chain of names
                    names_chain = " -> ".join(seen + [pname])
                else:
                    cyc = [n for _, n in chain[chain.index(pkey):]] if pkey in chain else []
                    names_chain = " -> ".join(cyc + [m.name, pname]) if cyc else f"{m.name} -> {pname}"
                self.error(f"cycle in 'extends' ({names_chain})", pnode, "extends-cycle")
                self._extends_cycles += 1
                continue
            pdata = self._resolve_extends(parent, chain + [key])
            if parent.open:
                m.open = True
            inherited = [(k, v) for k, v in pdata.items() if k.value in INHERITED_MODEL_ATTRS]
            if inherited:
                pseudo = Node(MAP, inherited, pdata.sl, pdata.sc, pdata.el, pdata.ec)
                merged = merge(merged, pseudo, origin=parent.name)
        return merged

    def _package_parent(self, pname: str, pnode: Node, seen: List[str]) -> Optional[Node]:
        """The data of `pkg/model`, found and resolved as Guild does (None: not resolved)."""
        pkg, mname = pname.split("/", 1)
        if pname in seen:
            self.error(f"cycle in 'extends' ({' -> '.join(seen + [pname])})", pnode, "extends-cycle")
            return None
        base = os.path.dirname(os.path.abspath(self.path)) if self.path else None
        path = packages.package_guildfile(pkg, base)
        if path is None:
            self.problem("extends-error", WARNING,
                         f"cannot find Guild file for package '{pkg}' (not in this project, its sibling projects or "
                         "the interpreter's sys.path; Guild refuses this file unless the package is installed where "
                         "it runs)", pnode)
            return None
        if len(seen) >= _MAX_PACKAGE_DEPTH:
            return None
        sub = _load_package(path, tuple(seen + [pname]))
        if sub is None:
            return None
        if sub.fatal:
            msg = sub.fatal[0]
            self.error(msg, pnode, "extends-cycle" if msg.startswith("cycle in") else "extends-error")
            return None
        self.package_models.append(sub.gf)
        self.package_models.extend(sub.package_models)
        parent = sub.gf.models.get(mname) or sub.gf.configs.get(mname)
        if parent is None:
            self.error(f"undefined model or config '{mname}' in package '{pkg}'", pnode, "extends-error")
            return None
        return parent.merged if parent.merged is not None else parent.node

    # models ----------------------------------------------------------------------------
    def _build_model(self, m: Model, data: Node):
        params = data.get("params")
        if params is not None and params.kind == MAP:
            m.params = params.py()
        if m.params and m.kind == "model":
            resolved, too_large = resolve_params(m.params)
            try:
                data = substitute_params(data, resolved)
            except ParamTooLarge as e:
                too_large.append(e.name)  # a value repeating params past the limit: none substituted
            if too_large:
                name, more = too_large[0], len(set(too_large)) - 1
                pair = params.get_pair(name) if params is not None else None
                also = f" (and {more} more param{'s' if more > 1 else ''})" if more else ""
                self.error(f"param '{name}' expands to more than {MAX_PARAM_TEXT} characters{also}: "
                           "not substituted", pair[0] if pair else data, "invalid-param")
            m.data = data
        ops = data.get("operations")
        if ops is not None and not ops.is_null:
            if ops.kind != MAP:
                self.error(f"invalid operations value {ops.py()!r}: expected a mapping", ops)
            else:
                ops = self._expand_include(m, ops, "operations")
                defaults = data.get("operation-defaults")
                mixed = self._check_key_types(ops, "operation", data.get("operations"))
                if self.chunks is not None and defaults is None and not mixed:
                    self._build_operations(m, ops.items())
                else:
                    for k, v in ops.items():
                        if mixed and k.kind == SCALAR and not isinstance(k.value, str):
                            continue  # said above, in Guild's terms
                        self._build_operation(m, k, v, defaults)
        res = data.get("resources")
        if res is not None and not res.is_null:
            if res.kind == MAP:
                raw = res
                res = self._expand_include(m, res, "resources")
                self._check_key_types(res, "resource", raw)
                for k, v in res.items():
                    self._build_resource(m, k, v)
            else:
                self.error(f"invalid resources value {res.py()!r}: expected a mapping", res)

    def _expand_include(self, m: Optional[Model], section: Node, attr: str, op_model: Optional[Model] = None) -> Node:
        inc = section.get("$include")
        if inc is None:
            return section
        refs = [inc] if inc.kind == SCALAR else (inc.value if inc.kind == SEQ else [])
        included: Optional[Node] = None
        for r in refs:
            ref = r.value if isinstance(r.value, str) else None
            if ref is None:
                self.error(f"invalid $include value {inc.py()!r}: expected a string or list", inc)
                continue
            target = self._include_target(ref, attr, r, m if op_model is None else op_model)
            if target is None:
                continue
            if target is _OPEN:
                if m is not None:
                    m.open = True
                continue
            included = target if included is None else merge(target, included, flag_defs=attr == "flags")
        own = [(k, v) for k, v in section.items() if k.value != "$include"]
        base = Node(MAP, own, section.sl, section.sc, section.el, section.ec, src=section.src)
        if included is None:
            return base
        return merge(base, included, flag_defs=attr == "flags")

    def _include_target(self, ref: str, attr: str, node: Node, model: Optional[Model]):
        m1 = _INCLUDE_REF_P1.match(ref)
        m2 = None if m1 else _INCLUDE_REF_P2.match(ref)
        if m1 is None and m2 is None:
            self.error(f"invalid include reference '{ref}': operation references must be specified as "
                       "CONFIG[#ATTRS] or MODEL:OPERATION[#ATTRS]", node, "include-error")
            return None
        if m1 is not None:
            mname, opname, filt = m1.groups()
        else:
            (mname, filt), opname = m2.groups(), None
        keys = [k.strip() for k in filt.split(",")] if filt else None
        target: Optional[Node] = None
        if opname is not None:
            tm = self._find_named(mname, models_first=True)
            if tm is None:
                if "/" in mname:
                    return _OPEN
                self.error(f"invalid include reference '{ref}': cannot find target", node, "include-error")
                return None
            tdata = tm.data if tm.data is not None else tm.node
            tops = tdata.get("operations")
            top = tops.get(opname) if tops is not None else None
            if top is None or top.kind != MAP:
                self.error(f"invalid include reference '{ref}': cannot find target", node, "include-error")
                return None
            target = top.get(attr)
        else:
            if "/" in mname:
                return _OPEN
            tm = self._find_named(mname, models_first=False)
            if tm is None:
                if model is not None and model.open:
                    return _OPEN
                self.error(f"invalid include reference '{ref}': cannot find target", node, "include-error")
                return None
            tdata = tm.data if tm.data is not None else tm.node
            target = tdata.get(attr)
        if target is None or target.kind != MAP:
            return Node(MAP, [], node.sl, node.sc, node.el, node.ec)
        if target.get("$include") is not None:
            target = self._expand_include(model, target, attr)
        if keys:
            pairs = [(k, v) for k, v in target.items() if k.value in keys]
            target = Node(MAP, pairs, target.sl, target.sc, target.el, target.ec, src=target.src)
        return target

    def _check_key_types(self, section: Node, what: str, raw: Node) -> bool:
        """Names YAML reads as something other than text (`on`, `yes`, `1`).

        Guild sorts the names of flags, operations and resources: a name of another type
        beside text names makes it fail (TypeError) and refuse the file. A flag name that
        is not text but sorts (alone, or only such names) loads and fails when the
        operation runs, building the flag's environment variable name.
        """
        if _STR_ONLY.issuperset(map(type, section.index())):
            return False  # every name is text (a key that is no scalar is indexed as None)
        odd = [k for k, _ in section.items()
               if k.kind == SCALAR and not isinstance(k.value, str)]
        if not odd:
            return False
        try:
            sorted(k.value for k, _ in section.items() if k.kind == SCALAR)
            sorts = True
        except TypeError as e:
            sorts, crash = False, str(e)
        if sorts and what != "flag":
            return False  # a lone odd name: the name checks say what Guild says
        for k in odd:
            shown = self._written(k)
            kind = "boolean" if isinstance(k.value, bool) else type(k.value).__name__
            read_as = f"the {kind} {k.py()!r}" if k.value is not None else "null"
            if k.value is True or k.value is False:
                read_as = f"the boolean {'true' if k.value else 'false'}"
            quote = f"quote it to keep it a name: '{shown}'"
            at = k if k.local else (raw.get_pair("$include") or (k,))[0]
            if sorts:
                self.problem("non-string-key", WARNING,
                             f"YAML reads {what} name {shown} as {read_as}: Guild loads the file but the "
                             f"operation fails when it runs (AttributeError: '{type(k.value).__name__}' object has "
                             f"no attribute 'upper'); {quote}", at)
            else:
                self.problem("non-string-key", ERROR,
                             f"YAML reads {what} name {shown} as {read_as}, and Guild cannot load a file whose "
                             f"{what} names mix it with text names (TypeError: {crash}); {quote}", at)
        return not sorts

    def _written(self, n: Node) -> str:
        """A scalar as written in the document (its value's text when elsewhere)."""
        if n.local and n.sl == n.el and n.sl < len(self.gf.lines):
            t = self.gf.lines[n.sl][n.sc:n.ec].strip()
            if t:
                return t
        return n.text() or "null"

    def _find_named(self, name: str, models_first: bool) -> Optional[Model]:
        """A model or config of this file, else of a package file it extends (Guild looks
        through the extending file, then the packages' files)."""
        for gf in [self.gf] + self.package_models:
            first, second = (gf.models, gf.configs) if models_first else (gf.configs, gf.models)
            tm = first.get(name) or second.get(name)
            if tm is not None:
                return tm
        return None

    # operations --------------------------------------------------------------------------
    def _build_operations(self, m: Model, pairs: List[Tuple[Node, Node]]):
        """``_build_operation`` of each (key, value) of `pairs` (the model's operations, no
        operation-defaults), taking again by position what the last version built from the
        very same nodes: the entries recall() would give (same nodes, same model name,
        kind and openness), a run of them at a time with list and dict operations instead
        of asking the memo one operation at a time. The pairs kept are those before and
        after the part that changed (the same tuple objects: the composer reuses an
        unchanged entry's (key, value) pair, chunks.py); no line may have moved since
        (`shifts`: else each node is asked whether it moved with what was remembered, as
        recall() does)."""
        memo = self.chunks
        states = memo.state.setdefault("build-positions", {})
        skey = (m.name, m.kind)
        prev = states.pop(skey, None)
        open0 = m.open
        n = len(pairs)
        a = b = 0
        if prev is not None and prev.open == open0:
            a, b = common_ends(pairs, prev.pairs)
        new = _Built(memo.shifts, open0, pairs)
        if a:
            self._take(m, prev, 0, a, new)
        for k, v in pairs[a:n - b]:
            new.add(self._build_operation(m, k, v, None))
        if b:
            pn = len(prev.pairs)
            self._take(m, prev, pn - b, pn, new)
        if m.open is open0:
            new.holes = [i for i, e in enumerate(new.entries) if e is None] if None in new.entries else []
            states[skey] = new

    def _take(self, m: Model, prev: "_Built", lo: int, hi: int, new: "_Built"):
        """The operations `prev` built at positions lo..hi, into `m` (and `new`), in order;
        those it did not remember (holes) are built again."""
        gf = self.gf
        at = lo
        holes = [h for h in prev.holes if lo <= h < hi]
        if prev.shifts != self.chunks.shifts:
            # lines moved since: those whose nodes did not move with what was remembered
            # are built again, as recall() would not give them
            moved = self.chunks.moved_away([e for e in prev.entries[lo:hi] if e is not None])
            if moved:
                live = [i for i in range(lo, hi) if prev.entries[i] is not None]
                holes = sorted(set(holes).union(live[j] for j in moved))
        for h in holes + [hi]:
            if m.open is not new.open:
                # building an operation changed the model: what was built with the other
                # openness is not what recall() would give, build the rest anew
                for k, v in prev.pairs[at:hi]:
                    new.add(self._build_operation(m, k, v, None))
                return
            if h > at:
                ops = prev.ops[at:h]
                for op in ops:
                    op.model = m
                m.operations.update(zip(prev.names[at:h], ops))
                gf.problems.extend(chain.from_iterable(prev.problems[at:h]))
                gf.refs.extend(chain.from_iterable(prev.refs[at:h]))
                entries = prev.entries[at:h]
                self.chunks.touch(entries)
                new.extend(prev, at, h)
            if h < hi:
                k, v = prev.pairs[h]
                new.add(self._build_operation(m, k, v, None))
            at = h + 1

    def _build_operation(self, m: Model, key: Node, value: Node, defaults: Optional[Node]) -> Optional[list]:
        """Build one operation into `m`; -> its memo entry (ChunkCache.remember) or None."""
        memo = self.chunks
        if memo is None or defaults is not None or value.kind != MAP or not value.local:
            self._build_operation_now(m, key, value, defaults)
            return None
        # The operation built from the same node of the previous version (same text at the
        # same line, see chunks.py) is the same operation: reuse it, with what building it
        # said. Only when it read nothing but its node and its model's name and openness.
        mkey = ("build-operation", id(value), id(key), m.name, m.kind, m.open)
        e = memo.recall_entry(mkey, value)
        gf = self.gf
        if e is not None:
            op, problems, refs = e[1]
            op.model = m
            m.operations[op.name] = op
            gf.problems.extend(problems)
            gf.refs.extend(refs)
            return e
        p0, r0, open0 = len(gf.problems), len(gf.refs), m.open
        self._build_operation_now(m, key, value, defaults)
        op = m.operations.get(key.value) if key.kind == SCALAR and isinstance(key.value, str) else None
        if (op is not None and op.node is value and op.key is key and op.origin is None and m.open == open0
                and op.flags_node is value.get("flags")):
            problems, refs = gf.problems[p0:], gf.refs[r0:]
            return memo.remember(mkey, value, (op, problems, refs), movable_lines(op, problems, refs))
        return None

    def _build_operation_now(self, m: Model, key: Node, value: Node, defaults: Optional[Node]):
        if key.kind != SCALAR or not isinstance(key.value, str):
            self.error(f"invalid operation name {key.py()!r}: expected a string", key)
            return
        name = key.value
        if value.kind == SCALAR and isinstance(value.value, str):
            node = Node(MAP, [(derived(value, "main"), value)], value.sl, value.sc, value.el, value.ec, src=value.src)
        elif value.kind == MAP:
            node = value
        else:
            v = value.py()
            self.error(f"invalid value for operation '{v}' {name!r}: expected a string or a mapping", value)
            return
        if defaults is not None and defaults.kind == MAP:
            extra = [(k, v) for k, v in defaults.items() if k.value not in node]
            if extra:
                node = Node(MAP, list(node.items()) + extra, node.sl, node.sc, node.el, node.ec, src=node.src)
        op = Operation(name, m, key, node)
        if "optimizer" in node and "optimizers" in node:
            self.error(f"conflicting optimizer configuration in operation '{name}' - cannot define both "
                       "'optimizer' and 'optimizers'", node.get_pair("optimizers")[0])
        opt = node.get("optimizer")
        if opt is not None and opt.kind == MAP and "algorithm" not in opt:
            self.error(f"missing required 'algorithm' attribute in {opt.py()!r}", opt)
        if not key.local:
            op.origin = "include"
        m.operations[name] = op
        self._build_flags(op, m)
        self._build_requires(op)
        self._build_steps(op)
        self._collect_op_refs(op)

    def _build_flags(self, op: Operation, m: Model):
        node = op.node
        fnode = node.get("flags")
        op.flags_node = fnode
        if fnode is not None and not fnode.is_null:
            if fnode.kind != MAP:
                self.error(f"invalid flags value {fnode.py()!r}: expected a mapping", fnode)
            else:
                raw = fnode
                fnode = self._expand_include(m, fnode, "flags")
                op.flags_node = fnode
                self._check_key_types(fnode, "flag", raw)
                for k, v in fnode.items():
                    if k.kind != SCALAR:
                        continue
                    fname = k.value if isinstance(k.value, str) else str(k.value)
                    if v.kind == MAP:
                        attrs = v.py()
                        ch = v.get("choices") if "choices" in attrs else None
                        if ch is not None and not ch.is_null and ch.kind != SEQ:
                            self.error(f"invalid flag choice data {ch.py()!r}: expected a list of values or mappings", ch)
                        elif ch is not None and ch.kind == SEQ:
                            for c in ch.value:
                                if c.kind == MAP and "value" not in c:
                                    self.error(f"missing required 'value' attribute in {c.py()!r}", c)
                    elif v.kind == SCALAR and is_date(v.value):
                        self.error(
                            f"invalid value for {fname} flag {v.value!r}: expected a mapping of flag "
                            "attributes or default flag value", v)
                        attrs = {"default": str(v.value)}
                    else:
                        attrs = {"default": v.py()}
                    op.flags[fname] = Flag(fname, op, k, v, attrs)
        # which flags can't we know statically?
        fi = node.get("flags-import")
        fi_val = fi.py() if fi is not None else None
        if fi is not None:
            ok = fi_val in (True, False, "all") or (isinstance(fi_val, list))
            if not ok:
                self.error(
                    f"invalid flags-import value {fi_val!r}: expected yes/all, no, or a list of flag names", fi)
        if "notebook" in node or op.flags_dest.startswith("config:"):
            op.flags_open = True
        elif fi_val is True or fi_val == "all" or isinstance(fi_val, list):
            main = op.main
            steps = node.get("steps")
            has_steps = steps is not None and steps.kind == SEQ and len(steps.value) > 0
            is_python = not op.exec and (main or not has_steps) and not (main or "").startswith("guild.plugins")
            if is_python:
                op.flags_open = True
        if m.open:
            op.flags_open = True

    def _build_requires(self, op: Operation):
        rnode = op.node.get("requires")
        if rnode is None or rnode.is_null:
            return
        items = rnode.value if rnode.kind == SEQ else [rnode]
        for it in items:
            if it.kind == SCALAR and isinstance(it.value, str):
                op.requires.append(Dependency("resource", it, resource=it.value))
            elif it.kind == MAP:
                if "resource" in it:
                    r = it.get("resource")
                    op.requires.append(Dependency("resource", it, resource=r.value if r is not None else None,
                                                  attrs=it.py()))
                elif "sources" in it:
                    dep = Dependency("inline", it, attrs=it.py())
                    srcs = it.get("sources")
                    if srcs is not None and srcs.kind == SEQ:
                        dep.sources = [s for s in (self._source(x, f"{op.model.name}:<inline>") for x in srcs.value) if s]
                    op.requires.append(dep)
                else:
                    dep = Dependency("inline", it, attrs=it.py())
                    s = self._source(it, f"{op.model.name}:<inline>", dep.attrs)
                    if s:
                        dep.sources = [s]
                    op.requires.append(dep)
            else:
                self.error(
                    f"invalid dependency value {it.py()!r}: expected a string or mapping", it)
        # resource flags: file sources with flag-name
        for dep in op.requires:
            for s in dep.sources:
                fname = s.attrs.get("flag-name")
                if s.kind != "operation" and isinstance(fname, str) and fname not in op.flags:
                    op.flags[fname] = Flag(fname, op, None, s.spec_node, {"type": "string", "arg-skip": True,
                                                                        "default": s.spec}, origin="resource")
        # resource flags (operation sources)
        for dep in op.requires:
            for s in dep.operation_sources:
                fname = s.attrs.get("flag-name")
                if fname is False:
                    continue
                name = fname if isinstance(fname, str) else (s.attrs.get("name") if isinstance(s.attrs.get("name"), str) else None)
                if name is None and dep.kind == "inline" and len(dep.sources) == 1 and isinstance(dep.attrs.get("name"), str):
                    name = dep.attrs.get("name")
                alias = None
                if name is None:
                    name = f"operation:{s.spec}"
                    alias = str(s.spec)
                if name in op.flags:
                    f = op.flags[name]
                    if alias and not f.alias:
                        f.attrs = dict(f.attrs, alias=alias)
                    continue
                attrs = {"type": "string", "arg-skip": True, "default": None}
                if alias:
                    attrs["alias"] = alias
                op.flags[name] = Flag(name, op, None, s.spec_node, attrs, origin="resource")

    def _source(self, node: Node, resource: str = ":<inline>", data: Optional[dict] = None) -> Optional[Source]:
        """`data`: ``node.py()``, when the caller has it (the source shares it, read-only)."""
        if node.kind == SCALAR and isinstance(node.value, str):
            return Source("file", node.value, {}, node, node)
        if node.kind != MAP:
            return None
        if data is None:
            data = node.py()
        # Guild counts a type attribute only when its value is truthy (`operation: ''` is none)
        types = [t for t in SOURCE_TYPES if data.get(t)]
        if not types:
            self.error(f"invalid source {node.py()!r} in resource '{resource}': missing required attribute "
                       "(one of config, file, module, url, operation)", node, "invalid-source")
            return Source("unknown", None, node.py(), node, None)
        if len(types) > 1:
            self.error(f"invalid source {node.py()!r} in resource '{resource}': conflicting attributes "
                       f"({', '.join(types)})", node.get_pair(types[1])[0], "invalid-source")
            return Source("unknown", None, node.py(), node, None)
        self._check_rename(node.get("rename"))
        t = types[0]
        return Source(t, data[t], data, node, node.get(t))

    def _check_rename(self, rn: Optional[Node]):
        if rn is None or rn.is_null:
            return
        for spec in (rn.value if rn.kind == SEQ else [rn]):
            if spec.kind == MAP:
                continue
            if spec.kind != SCALAR or not isinstance(spec.value, str):
                self.error(f"invalid rename spec {spec.py()!r}: expected string or map", spec, "invalid-source")
                continue
            words, err = runspec.split_words(spec.value)
            if err or len(words) not in (1, 2):
                self.error(f"invalid rename spec {spec.value!r}: expected 'PATTERN REPL' or 'NAME'", spec,
                           "invalid-source")

    def _build_resource(self, m: Model, key: Node, value: Node):
        name = key.value if isinstance(key.value, str) else str(key.value)
        if value.kind == SEQ:
            srcs = value
            attrs = {}
        elif value.kind == MAP:
            srcs = value.get("sources")
            attrs = value.py()
        else:
            self.error(f"invalid resource value {value.py()!r}: expected a mapping or a list", value)
            return
        r = Resource(name, m, key, value, attrs=attrs)
        if srcs is not None and srcs.kind == SEQ:
            r.sources = [s for s in (self._source(x, f"{m.name}:{name}") for x in srcs.value) if s]
        m.resources[name] = r

    # steps -----------------------------------------------------------------------------
    def _build_steps(self, op: Operation):
        snode = op.node.get("steps")
        op.steps_node = snode
        if snode is None or snode.is_null:
            return
        if snode.kind != SEQ:
            if snode.kind == MAP and not snode.value:
                return
            self.error(f"invalid steps data {snode.py()!r}: expected a list", snode)
            return
        if not snode.value:
            return
        op.steps = [self._build_step(op, i, n) for i, n in enumerate(snode.value)]

    def _build_step(self, op: Operation, index: int, node: Node) -> Step:
        step = Step(op, index, node)
        lines = self.gf.lines
        if node.kind == SCALAR and isinstance(node.value, str):
            run_node = node
        elif node.kind == MAP:
            run_node = node.get("run")
            nm = node.get("name")
            if nm is not None and nm.kind == SCALAR and nm.value is not None:
                step.name = str(nm.value)
            iso = node.get("isolate-runs")
            if iso is not None:
                step.isolate_runs = bool(iso.value) if iso.kind == SCALAR else True
            idx = node.index()
            for key, param in runspec.STEP_OPTION_KEYS.items():
                pair = idx.get(key)
                if pair is not None:
                    step.options[param] = pair[1].py()
            self._step_flags(step, node.get("flags"))
            self._step_expect(step, node.get("expect"))
        else:
            step.problems.append(Problem("invalid-step", WARNING, f"invalid step data: {node.py()!r}", node.range))
            return step
        if run_node is None or run_node.kind != SCALAR or run_node.value is None or not str(run_node.value).strip():
            step.problems.append(
                Problem("invalid-step", WARNING, f"invalid step {node.py()!r}: must define run",
                        (run_node or node).range))
            return step
        run = str(run_node.value)
        step.run, step.run_node = run, run_node
        spec = runspec.parse_run(run)
        local = run_node.local

        def rng(a, b):
            # offsets are in the substituted text: unknown in the source when params changed it
            return sub_range(run_node, lines, a, b) if local and run_node.orig is None else run_node.range

        for msg, a, b in spec.problems:
            full = msg if msg.startswith("invalid") else f"invalid run spec '{run}': {msg}"
            step.problems.append(Problem("invalid-step", WARNING, full, rng(a, b)))
        for msg, a, b in spec.ignored:
            step.problems.append(Problem("ignored-run-option", WARNING, msg, rng(a, b)))
        if spec.opspec is not None:
            step.opspec = spec.opspec
            step.opspec_range = rng(spec.opspec_start, spec.opspec_end)
        opspec_override = step.options.get("opspec")
        if isinstance(opspec_override, str) and opspec_override:
            step.opspec = opspec_override
            ov = node.get("opspec")
            step.opspec_range = ov.range if ov is not None else step.opspec_range
        for a in spec.assigns:
            step.assigns.append(FlagAssign(a.name, a.value, a.text, rng(a.start, a.name_end), rng(a.value_start, a.end)))
        for param, val in spec.options.items():
            step.options.setdefault(param, val)
        step.batch_files = [w.text for w in spec.batch_files]
        # refs in the run string
        if run_node.orig is not None:
            self._scan_refs(run_node, "step", op)
        else:
            for mm in REF_RE.finditer(run):
                self.gf.refs.append(Ref(mm.group(1), rng(mm.start(), mm.end()), "step", op))
        return step

    def _step_flags(self, step: Step, fnode: Optional[Node]):
        if fnode is None or fnode.is_null:
            return
        step.flags_node = fnode
        if fnode.kind == SEQ:
            self.error(
                "step flags must be a mapping of flag names to values: Guild fails to load a guild file "
                "whose step has a list of flags (TypeError('list indices must be integers or slices, not str'))",
                fnode, "invalid-type")
            return
        if fnode.kind != MAP:
            self.error(f"invalid flags value {fnode.py()!r}", fnode)
            return
        fnode = self._expand_include(step.operation.model, fnode, "flags")
        out = []
        for k, v in fnode.items():
            name = str(k.value)
            if v.kind == MAP:
                d = v.get("default")
                val = d.py() if d is not None else None
                vnode = d if d is not None else v
            else:
                val = v.py()
                vnode = v
            text = vnode.text() if vnode.kind == SCALAR else None
            out.append(FlagAssign(name, val, text if text is not None else "", k.range, vnode.range))
            if vnode.kind == SCALAR and isinstance(vnode.value, str):
                self._scan_refs(vnode, "step-flag", step.operation)
        step.flags_map = out

    def _step_expect(self, step: Step, enode: Optional[Node]):
        if enode is None or enode.is_null:
            return
        items = enode.value if enode.kind == SEQ else [enode]
        for it in items:
            if it.kind != MAP:
                continue
            if "output" in it:
                step.expect.append(Check("output", it.get("output").py(), node=it))
            elif "file" in it:
                step.expect.append(Check("file", it.get("file").py(),
                                         (it.get("contains").py() if "contains" in it else None),
                                         (it.get("compare-to").py() if "compare-to" in it else None), node=it))
            else:
                step.expect.append(Check("unknown", None, node=it))

    # references ---------------------------------------------------------------------------
    def _scan_refs(self, node: Node, context: str, op: Operation):
        if node.kind != SCALAR or not isinstance(node.value, str) or "${" not in node.value:
            return
        s = node.value
        if node.orig is not None:
            # positions come from the text as written; refs a param brought in have none
            written = {mm.group(1) for mm in REF_RE.finditer(node.orig)}
            for mm in REF_RE.finditer(node.orig):
                rng = sub_range(node, self.gf.lines, mm.start(), mm.end(), node.orig) if node.local else node.range
                self.gf.refs.append(Ref(mm.group(1), rng, context, op))
            for mm in REF_RE.finditer(s):
                if mm.group(1) not in written:
                    self.gf.refs.append(Ref(mm.group(1), node.range, context, op))
            return
        for mm in REF_RE.finditer(s):
            rng = sub_range(node, self.gf.lines, mm.start(), mm.end()) if node.local else node.range
            self.gf.refs.append(Ref(mm.group(1), rng, context, op))

    def _collect_op_refs(self, op: Operation):
        idx = op.node.index()
        for attr in ("exec", "main", "label"):
            pair = idx.get(attr)
            if pair is not None:
                self._scan_refs(pair[1], attr, op)
        pair = idx.get("env")
        if pair is not None and pair[1].kind == MAP:
            for _, v in pair[1].items():
                self._scan_refs(v, "env", op)
        if op.steps:
            for st in op.steps:
                sidx = st.node.index()  # (empty for a step that is a string)
                for key in ("label", "tags", "gpus"):
                    pair = sidx.get(key)
                    if pair is None:
                        continue
                    v = pair[1]
                    for n in (v.value if v.kind == SEQ else [v]):
                        self._scan_refs(n, "step-option", op)


_OPEN = object()
_STR_ONLY = frozenset((str,))


def _shown_path(p: str) -> str:
    """A path as Guild shows it: relative to the working directory when below it."""
    rel = os.path.relpath(p)
    return p if rel.startswith("..") else rel


def merge(child: Node, parent: Node, origin: Optional[str] = None, flag_defs: bool = False) -> Node:
    """Merge two mappings: the child's values win, nested mappings merge recursively.

    With ``flag_defs`` the mappings are flag definitions: a bare default on one side is
    taken as ``{default: value}`` so that a child can change a default and keep the
    parent's description and type (as Guild does).
    """
    if child.kind != MAP or parent.kind != MAP:
        return child
    pairs = []
    index = {}
    for k, v in child.items():
        try:
            index[k.value] = len(pairs)
        except TypeError:
            pass
        pairs.append((k, v))
    for k, v in parent.items():
        try:
            pos = index.get(k.value)
        except TypeError:
            pos = None
        if pos is None:
            pairs.append((k, v))
            continue
        ck, cv = pairs[pos]
        if flag_defs:
            if cv.kind != MAP and v.kind == MAP:
                cv = Node(MAP, [(derived(cv, "default"), cv)], cv.sl, cv.sc, cv.el, cv.ec, src=cv.src)
            elif cv.kind == MAP and v.kind != MAP:
                v = Node(MAP, [(derived(v, "default"), v)], v.sl, v.sc, v.el, v.ec, src=v.src)
        if cv.kind == MAP and v.kind == MAP:
            pairs[pos] = (ck, merge(cv, v, flag_defs=(k.value == "flags" and not flag_defs)))
    return Node(MAP, pairs, child.sl, child.sc, child.el, child.ec, child.style, child.tag, child.src)


# Guild 0.9.0 loads a chain of 200 models each extending the next, and fails at 300
# with "maximum recursion depth exceeded".
MAX_EXTENDS_DEPTH = 256

# ``{{ name }}`` text can repeat params that repeat params: the text doubles at each
# level. A param or value that would grow past this many characters is left as written
# and reported at the param.
MAX_PARAM_TEXT = 100_000


class ParamTooLarge(Exception):
    def __init__(self, name):
        super().__init__(name)
        self.name = name


def resolve_params(params: Dict[str, Any]) -> Tuple[Dict[str, Any], List[str]]:
    """Each param with the params it names substituted, recursively (each param once;
    a cycle leaves its text as written), and the names of params refused because their
    text would grow past ``MAX_PARAM_TEXT`` (the first cause first)."""
    out = dict(params)
    done, active = set(), set()
    causes, refused = [], set()

    def resolve(name, depth=0):
        if name in done:
            return
        val = params[name]
        if not isinstance(val, str) or "{{" not in val:
            done.add(name)
            return
        if name in active or depth > 200:
            return  # a cycle (or a very long chain): left as written
        active.add(name)
        try:
            refs = [r for r in PARAM_RE.findall(val) if r in params]
            for r in refs:
                resolve(r, depth + 1)
            if any(r in refused for r in refs):
                refused.add(name)
            else:
                try:
                    out[name] = _subst_text(val, out)
                except ParamTooLarge:
                    refused.add(name)
                    causes.append(name)
            done.add(name)
        finally:
            active.discard(name)

    for name in params:
        resolve(name)
    others = [n for n in params if n in refused and n not in causes]
    return out, causes + others


def substitute_params(node: Node, params: Dict[str, Any], _depth=0) -> Node:
    """Replace ``{{ name }}`` in every value (not keys) with the model's resolved params
    (see :func:`resolve_params`). Raises :class:`ParamTooLarge` when a value would grow
    past ``MAX_PARAM_TEXT``."""
    if node.kind == SCALAR:
        v = node.value
        if not isinstance(v, str) or "{{" not in v:
            return node
        n = derived(node, _subst_text(v, params))
        n.orig = v
        return n
    if node.kind == SEQ:
        new = [substitute_params(c, params) for c in node.value]
        if all(a is b for a, b in zip(new, node.value)):
            return node
        return Node(SEQ, new, node.sl, node.sc, node.el, node.ec, node.style, node.tag, node.src)
    changed = False
    pairs = []
    for k, v in node.value:
        nv = substitute_params(v, params)
        changed |= nv is not v
        pairs.append((k, nv))
    if not changed:
        return node
    return Node(MAP, pairs, node.sl, node.sc, node.el, node.ec, node.style, node.tag, node.src)


def _subst_text(v: str, params: Dict[str, Any]):
    """One pass of substitution; a whole-value reference keeps the param's type."""
    m = PARAM_RE.fullmatch(v.strip())
    if m and m.group(1) in params:
        return params[m.group(1)]
    size = len(v)

    def repl(mm):
        nonlocal size
        name = mm.group(1)
        if name not in params:
            return mm.group(0)
        val = params[name]
        text = str(val) if not isinstance(val, bool) else ("yes" if val else "no")
        size += len(text) - len(mm.group(0))
        if size > MAX_PARAM_TEXT:
            raise ParamTooLarge(name)
        return text

    return PARAM_RE.sub(repl, v)


_PACKAGE_CACHE: Dict[Tuple, "_Loader"] = {}


def _load_package(path: str, seen: Tuple[str, ...]) -> Optional["_Loader"]:
    """Another package's guild file, loaded for `extends` (cached by file state and chain)."""
    try:
        st = os.stat(path)
        key = (path, st.st_mtime_ns, st.st_size, seen)
        hit = _PACKAGE_CACHE.get(key)
        if hit is not None:
            return hit
        if st.st_size > 4 * 1024 * 1024:
            return None
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return None
    sub = _Loader(text, path, extends_seen=seen, src=path)
    try:
        sub.load()
    except RecursionError:
        return None
    if len(_PACKAGE_CACHE) > 256:
        _PACKAGE_CACHE.clear()
    _PACKAGE_CACHE[key] = sub
    return sub


class _Built:
    """What _build_operations built for one model, by position (for the next version)."""

    __slots__ = ("shifts", "open", "pairs", "entries", "names", "ops", "problems", "refs", "holes")

    def __init__(self, shifts: int, open_: bool, pairs):
        self.shifts = shifts  # ChunkCache.shifts then
        self.open = open_  # the model's openness (the same before and after)
        self.pairs = list(pairs)  # the (key, value) nodes
        # by position: the memo entry (None: not remembered, built each time), and of its
        # value: the operation's name, the operation, the problems and references
        self.entries: list = []
        self.names: list = []
        self.ops: list = []
        self.problems: list = []
        self.refs: list = []
        self.holes: List[int] = []  # positions without an entry

    def add(self, entry: Optional[list]):
        self.entries.append(entry)
        if entry is None:
            self.names.append(None)
            self.ops.append(None)
            self.problems.append(())
            self.refs.append(())
        else:
            op, problems, refs = entry[1]
            self.names.append(op.name)
            self.ops.append(op)
            self.problems.append(problems)
            self.refs.append(refs)

    def extend(self, other: "_Built", lo: int, hi: int):
        self.entries += other.entries[lo:hi]
        self.names += other.names[lo:hi]
        self.ops += other.ops[lo:hi]
        self.problems += other.problems[lo:hi]
        self.refs += other.refs[lo:hi]


def movable_lines(op: Operation, problems=(), refs=()) -> list:
    """Every object built with `op` that holds lines of its own (``shift_lines``): its
    steps, their flag assignments and problems, and the given problems and references."""
    out: list = list(problems)
    out.extend(refs)
    for st in op.steps or ():
        out.append(st)
        out.extend(st.problems)
        out.extend(st.assigns)
        if st.flags_map:
            out.extend(st.flags_map)
    return out


def load(text: str, path: Optional[str] = None, chunks: Optional[ChunkCache] = None) -> Guildfile:
    """Load a guild file's text into the positioned model. Never raises.

    `chunks`: the ChunkCache of the document's previous versions (the server keeps one
    per open document): unchanged top-level entries are not composed again."""
    if len(text) > MAX_FILE_BYTES:
        gf = Guildfile(path, "", [""], None, format="invalid")
        gf.problems.append(Problem("file-too-large", ERROR, too_large_message(len(text.encode("utf-8", "replace"))),
                                   Range(0, 0, 0, 0)))
        return gf
    # The model is a large graph of small objects built in one go: the cyclic garbage
    # collector would only rescan it again and again while it grows (paused from the
    # first allocation: the loader itself could start a collection of what came before)
    with collector_paused():
        loader = _Loader(text, path)
        loader.chunks = chunks
        try:
            gf = loader.load()
            if path:
                import_script_flags(gf)
            return gf
        except RecursionError:
            gf = Guildfile(path, text, split_lines(text), None, format="invalid")
            gf.problems.append(Problem("yaml-syntax", ERROR, "document is nested too deeply", Range(0, 0, 0, 1)))
            return gf


def import_script_flags(gf: Guildfile):
    """Read the flags of each Python `main` operation's script (statically, see
    :mod:`.scriptflags`): declared flags get the place the script defines them, and
    `flags-import: all/yes/[names]` adds the imported ones. A complete reading closes the
    operation's flag set, as Guild's import does; anything unreadable keeps it open."""
    from . import scriptflags as sf

    sources: Dict[str, Tuple[Optional[str], bool]] = {}  # by module: (script, kept)
    finder = sf.SourceFinder(gf.dir)
    gf.script_read = []
    memo = gf.chunks
    # By position, with the document's cache: an operation the last pass found no script
    # for (from directory listings that are still the same objects: SourceFinder), and
    # that is the same object (so the same node and main), has none this time either. Only
    # the part of the model that changed and the operations that had a script (or were
    # looked up on the file system itself) are read again.
    states = memo.state.setdefault("script-positions", {}) if memo is not None else None
    last_listings = memo.state.get("script-listings") if memo is not None else None
    same = None  # the last pass's listings are still the same (asked once, when needed)
    for model in list(gf.models.values()) + list(gf.configs.values()):
        skey = (model.kind, model.name)
        prev = states.pop(skey, None) if states is not None else None
        if model.open:
            continue
        ops = list(model.operations.values())
        todo: Any = range(len(ops))
        if prev is not None and last_listings is not None and last_listings[0] == finder.project_dir:
            if same is None:
                same = finder.same_listings(last_listings[1])
            if same:
                a, b = common_ends(ops, prev[0])
                n, pn = len(ops), len(prev[0])
                todo = ([i for i in prev[1] if i < a] + list(range(a, n - b))
                        + [i - pn + n for i in prev[1] if i >= pn - b])
        loud = [i for i in todo if _read_script(gf, ops[i], finder, sources, sf)]
        if states is not None:
            states[skey] = (ops, loud)
    if memo is not None:
        seen = finder.listings()
        if same:
            seen = {**last_listings[1], **seen}
        memo.state["script-listings"] = (finder.project_dir, seen)


def _read_script(gf: Guildfile, op: Operation, finder, sources: dict, sf) -> bool:
    """import_script_flags for one operation: -> False when it has no script and, found
    so from directory listings only, will have none while they stay the same."""
    if op.node.kind != MAP:
        return False
    own = op.__dict__
    before = own.pop("_script_flags_open", None)
    if before is not None:
        # an operation reused from the previous version of the document (chunks.py):
        # undo what the last reading added, the script may have changed since
        op.flags_open = before[0]
        for name in [n for n, f in op.flags.items() if f.origin == "script"]:
            del op.flags[name]
        for f in op.flags.values():
            f.source = None
    known = own.get("_script_module")
    if known is None:
        # what it reads is the operation's node (the same for a reused operation)
        main = op.main
        module, _args = sf.split_main(op)
        known = own["_script_module"] = (
            main, module if module and not module.startswith("guild.") else None)
    main, module = known
    if module is None:
        return False
    found = sources.get(module)
    if found is None:
        found = sources[module] = (finder.find(module), finder.kept)
    path, kept = found
    if path is None:  # no script at hand (most of the time: cheap)
        return not kept
    if op.exec or (not main and op.steps):
        return True
    fi = op.value("flags-import")
    info = sf.script_info(path)
    if not info["readable"] or op.value("notebook") is not None:
        return True
    dest = op.value("flags-dest")
    if isinstance(dest, str) and dest != info["dest"]:
        return True  # another dest (config:, dict:...): not what we read
    imported = sf.script_flags(info)
    lines = info["lines"]
    op.__dict__["_script_flags_open"] = (op.flags_open,)  # what building it decided
    gf.script_read.append(op)
    for name, f in op.flags.items():
        if f.origin == "guildfile" and name in lines:
            f.source = (path, lines[name][0], lines[name][1])
    if not (fi is True or fi == "all" or isinstance(fi, list)):
        return True
    skip = op.value("flags-import-skip") or []
    skip = set(skip) if isinstance(skip, list) else {skip}
    for name, attrs in imported.items():
        if name in op.flags or name in skip or (isinstance(fi, list) and name not in fi):
            continue
        if info["dest"] == "globals" and "type" not in attrs:
            t = sf.type_for_val(attrs.get("default"))
            if t:
                attrs["type"] = t
        ln = lines.get(name)
        op.flags[name] = Flag(name, op, None, None, attrs, origin="script",
                              source=(path, ln[0], ln[1]) if ln else None)
    if info["complete"] and not op.flags_dest.startswith("config:"):
        op.flags_open = False
    return True


def load_path(path: str) -> Guildfile:
    """Load a file from disk; decoding problems and a file too large become a diagnostic.
    Raises ``OSError`` when the file cannot be opened or is not a regular file."""
    try:
        data = read_bytes(path)
    except FileRefused as e:
        if e.errno != errno.EFBIG:
            raise
        gf = Guildfile(path, "", [""], None, format="invalid")
        gf.problems.append(Problem("file-too-large", ERROR, e.strerror, Range(0, 0, 0, 0)))
        return gf
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        gf = Guildfile(path, "", [""], None, format="invalid")
        gf.problems.append(Problem("encoding", ERROR, f"file is not valid UTF-8 ({e.reason} at byte {e.start})",
                                   Range(0, 0, 0, 0)))
        return gf
    if text.startswith("\ufeff"):
        text = text[1:]
    return load(text, path)
