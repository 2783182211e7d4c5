"""Navigation and refactoring: what is at a position, definition, references, rename, symbols.

Pure functions of the model. Ranges are the model's (0-based, code-point columns); the LSP
layer converts them.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from lsprotocol import types

from ..model.guildfile import Flag, Guildfile, Model, Operation, Ref, Step
from ..model.lines import line_starts
from ..model.nodes import MAP, SCALAR, SEQ, Range, walk
from ..model.textpos import sub_range, text_at

# -------------------------------------------------------------------------------------
# an index of the document's operations by line (built once per model)


class _Index:
    def __init__(self, gf: Guildfile):
        spans = []
        for op in gf.local_operations():
            if not op.node.local:
                continue
            end = max(op.node.el, op.key.el)
            spans.append((op.key.sl, end, op))
        spans.sort(key=lambda s: (s[0], s[1]))
        self.spans = spans
        self.starts = [s[0] for s in spans]
        self.refs: Dict[int, List[Ref]] = {}
        for r in gf.refs:
            self.refs.setdefault(r.range.start_line, []).append(r)

    def ops_at(self, line: int) -> List[Operation]:
        """Operations whose text spans ``line`` (innermost last)."""
        i = bisect.bisect_right(self.starts, line)
        out = []
        # operations are not nested, but an op's block may end on the next key's line, and
        # operations written in flow style share one line: look back over all that start
        # on this line, and a few before it
        j = i - 1
        while j >= 0 and (self.spans[j][0] == line or j >= i - 3):
            sl, el, op = self.spans[j]
            if sl <= line <= el:
                out.append(op)
            j -= 1
        out.reverse()
        return out


def index(gf: Guildfile) -> _Index:
    idx = getattr(gf, "_guildls_nav_index", None)
    if idx is None:
        idx = _Index(gf)
        try:
            gf._guildls_nav_index = idx
        except AttributeError:  # pragma: no cover
            pass
    return idx


# -------------------------------------------------------------------------------------
# what is at a position


@dataclass
class Symbol:
    kind: str  # 'operation' | 'flag' | 'ref'
    role: str  # 'definition' | 'step' | 'requires' | 'assign' | 'ref'
    name: str  # as written
    range: Range  # of the text under the cursor
    scope: Operation  # the operation whose text holds the position
    operation: Optional[Operation] = None  # the operation meant (kind 'operation'), or the flag's owner
    flag: Optional[Flag] = None
    step: Optional[Step] = None
    ref: Optional[Ref] = None


def same_op(a: Optional[Operation], b: Optional[Operation]) -> bool:
    return a is not None and b is not None and (a is b or a.key is b.key)


def same_flag(a: Optional[Flag], b: Optional[Flag]) -> bool:
    if a is None or b is None:
        return False
    if a is b:
        return True
    if a.key is not None and a.key is b.key:
        return True
    return a.name == b.name and same_op(a.operation, b.operation)


def step_target(gf: Guildfile, step: Step) -> Optional[Operation]:
    if not step.opspec:
        return None
    return gf.find_operation(step.opspec, step.operation.model)


def _in(r: Optional[Range], line: int, col: int) -> bool:
    return r is not None and r.contains(line, col)


def _op_source_parts(gf: Guildfile, src) -> List[Tuple[str, Range]]:
    """The op names of an ``operation:`` source with their ranges (comma-separated specs)."""
    n = src.spec_node
    if n is None or not n.local or not isinstance(src.spec, str):
        return []
    out = []
    pos = 0
    for part in src.spec.split(","):
        a = pos + len(part) - len(part.lstrip())
        b = pos + len(part.rstrip())
        pos += len(part) + 1
        if b > a:
            out.append((part.strip(), sub_range(n, gf.lines, a, b)))
    return out


def symbol_at(gf: Guildfile, line: int, col: int) -> Optional[Symbol]:
    idx = index(gf)
    for op in reversed(idx.ops_at(line)):
        sym = _symbol_in_op(gf, op, line, col)
        if sym is not None:
            return sym
    return None


def _symbol_in_op(gf: Guildfile, op: Operation, line: int, col: int) -> Optional[Symbol]:
    if _in(op.key.range, line, col):
        return Symbol("operation", "definition", op.name, op.key.range, op, op)
    for f in op.flags.values():
        if f.key is not None and f.key.local and _in(f.key.range, line, col):
            return Symbol("flag", "definition", f.name, f.key.range, op, op, f)
    for r in index(gf).refs.get(line, ()):
        if r.operation is op or same_op(r.operation, op):
            if _in(r.range, line, col):
                return Symbol("ref", "ref", r.name, r.range, op, op, op.find_flag(r.name), ref=r)
    for st in op.steps or ():
        if not (st.node.sl <= line <= st.node.el):
            continue
        if _in(st.opspec_range, line, col):
            return Symbol("operation", "step", st.opspec, st.opspec_range, op, step_target(gf, st), step=st)
        for a in list(st.assigns) + list(st.flags_map or ()):
            if _in(a.name_range, line, col):
                target = step_target(gf, st)
                f = target.find_flag(a.name) if target is not None else None
                return Symbol("flag", "assign", a.name, a.name_range, op, target, f, step=st)
    for dep in op.requires:
        for src in dep.operation_sources:
            for name, rng in _op_source_parts(gf, src):
                if _in(rng, line, col):
                    return Symbol("operation", "requires", name, rng, op, gf.find_operation(name, op.model))
    return None


# -------------------------------------------------------------------------------------
# definition


def flag_def_range(f: Flag) -> Optional[Range]:
    if f.key is not None and f.key.local:
        return f.key.range
    if f.value is not None and f.value.local:  # resource flag: the source spec
        return f.value.range
    return None


_NAME_AT = re.compile(r"[^\s,\[\]'\"{}]+")


def _word_at(text: str, col: int) -> Optional[str]:
    for m in _NAME_AT.finditer(text):
        if m.start() <= col <= m.end():
            return m.group(0)
    return None


def named_definition(gf: Guildfile, line: int, col: int) -> List[Range]:
    """Definition of an ``extends`` parent or a named resource in ``requires``."""
    from .context import ITEM, classify, context_at

    ctx = context_at(gf.lines, line, col)
    if ctx.position == "value" and ctx.key_range and col <= ctx.key_range[1]:
        return []
    name = _word_at(ctx.text, col)
    if not name:
        return []
    loc = classify(gf, ctx)
    keys = ctx.keys
    if (ctx.position == "value" and ctx.key == "extends" and loc.section == "model") or (
            ctx.item and ctx.position == "key" and keys[1:] == ["extends", ITEM]):
        m = gf.models.get(name) or gf.configs.get(name)
        if m is not None and m.node.local:
            nn = m.name_node
            return [nn.range if nn is not None and nn.local else Range(m.node.sl, m.node.sc, m.node.sl, m.node.sc)]
        return []
    if loc.section == "dependency" and ((ctx.item and ctx.position == "key") or
                                        (ctx.position == "value" and ctx.key == "resource")):
        model = loc.model
        if ":" in name:
            mname, name = name.split(":", 1)
            model = gf.models.get(mname)
        res = model.resources.get(name) if model is not None else None
        if res is not None and res.key.local:
            return [res.key.range]
    return []


def definition(gf: Guildfile, line: int, col: int) -> List[Range]:
    sym = symbol_at(gf, line, col)
    if sym is None:
        return named_definition(gf, line, col)
    if sym.kind == "operation":
        op = sym.operation
        return [op.key.range] if op is not None and op.key.local else []
    if sym.flag is not None:
        r = flag_def_range(sym.flag)
        return [r] if r is not None else []
    return []


def definition_targets(gf: Guildfile, line: int, col: int) -> List[Tuple[Optional[str], Range]]:
    """Like :func:`definition`, as ``(path, range)`` pairs: ``path`` is None for this
    document, else a Python script that defines the flag (the `add_argument` call, the
    click option or the global)."""
    sym = symbol_at(gf, line, col)
    f = sym.flag if sym is not None else None
    if f is not None and f.source is not None:
        out: List[Tuple[Optional[str], Range]] = []
        r = flag_def_range(f)
        if r is not None and sym.role != "definition":
            out.append((None, r))
        path, ln, c = f.source
        out.append((path, Range(ln, c, ln, c)))
        return out
    return [(None, r) for r in definition(gf, line, col)]


# -------------------------------------------------------------------------------------
# references


def name_range(lines: List[str], r: Range, name: str) -> Range:
    """The range of ``name`` inside ``r`` (its last occurrence; ``r`` when not found)."""
    if r.start_line != r.end_line or r.start_line >= len(lines):
        return r
    text = lines[r.start_line][r.start_col:r.end_col]
    i = text.rfind(name)
    if i < 0:
        return r
    return Range(r.start_line, r.start_col + i, r.start_line, r.start_col + i + len(name))


def _passed_flags(op: Operation, st: Step):
    """Workflow flags named ``<opspec>:<flag>`` or ``<step name>:<flag>``: Guild passes them to
    that step (``guild run wf train:lr=0.5``). Yields ``(prefix, flag name, key range)``."""
    prefixes = [p for p in (st.opspec, st.name) if p]
    for f in op.flags.values():
        if f.key is None or not f.key.local or ":" not in f.name:
            continue
        for p in prefixes:
            if f.name.startswith(p + ":"):
                yield p, f.name[len(p) + 1:], f.key.range
                break


def _key_part(lines: List[str], r: Range, start: int, end: int) -> Range:
    """Range of ``key[start:end]`` for a key written plain or quoted on one line."""
    text = lines[r.start_line][r.start_col:r.end_col] if r.start_line == r.end_line else ""
    q = 1 if text[:1] in ("'", '"') else 0
    return Range(r.start_line, r.start_col + q + start, r.start_line, r.start_col + q + end)


def _op_refs(gf: Guildfile, target: Operation) -> List[Tuple[Range, str]]:
    """``(range of the whole opspec, kind)`` for every place that names ``target``."""
    out = []
    for op in gf.local_operations():
        for st in op.steps or ():
            if st.opspec_range is not None and st.run_node is not None and same_op(step_target(gf, st), target):
                if (st.run_node.local or st.node.local):
                    out.append((st.opspec_range, "step"))
                for prefix, _flag, krange in _passed_flags(op, st):
                    if prefix == st.opspec:
                        out.append((_key_part(gf.lines, krange, 0, len(prefix)), "flag-prefix"))
        for dep in op.requires:
            for src in dep.operation_sources:
                for name, rng in _op_source_parts(gf, src):
                    if same_op(gf.find_operation(name, op.model), target):
                        out.append((rng, "requires"))
    out.extend(_include_refs(gf, target))
    return out


def _include_refs(gf: Guildfile, target: Operation) -> List[Tuple[Range, str]]:
    """``$include: MODEL:OP[#attrs]`` values naming ``target`` (range of the whole
    ``MODEL:OP``, like a step's opspec)."""
    out = []
    if gf.root is None:
        return out
    for n in walk(gf.root):
        if n.kind != MAP or not n.local:
            continue
        inc = n.get("$include")
        if inc is None:
            continue
        for ref in (inc.value if inc.kind == SEQ else [inc]):
            if ref.kind != SCALAR or not isinstance(ref.value, str) or ":" not in ref.value:
                continue
            spec = ref.value.split("#", 1)[0]
            mname, opname = spec.split(":", 1)
            m = gf.models.get(mname) or gf.configs.get(mname)
            if m is not None and same_op(m.operations.get(opname), target):
                out.append((sub_range(ref, gf.lines, 0, len(spec)), "include"))
    return out


def _flag_refs(gf: Guildfile, flag: Flag) -> List[Range]:
    """Ranges of the flag's name wherever it is used (not the definition)."""
    owner = flag.operation
    names = {flag.name}
    if flag.alias:
        names.add(str(flag.alias))
    out = []
    for op in gf.local_operations():
        for st in op.steps or ():
            assigns = list(st.assigns) + list(st.flags_map or ())
            passed = [(p, n, r) for p, n, r in _passed_flags(op, st) if n == flag.name] if op.flags else []
            if not passed and not any(a.name in names for a in assigns):
                continue
            if not same_op(step_target(gf, st), owner):
                continue
            for a in assigns:
                if a.name == flag.name:
                    out.append(a.name_range)
            for p, n, r in passed:
                out.append(_key_part(gf.lines, r, len(p) + 1, len(p) + 1 + len(n)))
    for r in gf.refs:
        if r.name == flag.name and same_op(r.operation, owner):
            out.append(name_range(gf.lines, r.range, r.name))
    return out


def references(gf: Guildfile, line: int, col: int, include_declaration: bool = True) -> List[Range]:
    sym = symbol_at(gf, line, col)
    if sym is None:
        return []
    out: List[Range] = []
    if sym.kind == "operation":
        op = sym.operation
        if op is None:
            return []
        if include_declaration and op.key.local:
            out.append(op.key.range)
        out.extend(r for r, _ in _op_refs(gf, op))
    elif sym.flag is not None:
        d = flag_def_range(sym.flag)
        if include_declaration and d is not None and sym.flag.key is not None:
            out.append(d)
        out.extend(_flag_refs(gf, sym.flag))
    return _dedup(out)


def _dedup(ranges: List[Range]) -> List[Range]:
    seen = set()
    out = []
    for r in ranges:
        if r not in seen:
            seen.add(r)
            out.append(r)
    out.sort()
    return out


# -------------------------------------------------------------------------------------
# rename


class RenameError(Exception):
    """A rename that cannot be done; the message is for the user."""


_OP_NAME_RE = re.compile(r"^[^\s:=#'\"${}\[\],]+$")
_FLAG_NAME_RE = re.compile(r"^[^\s=#'\"${}\[\],]+$")


def prepare_rename(gf: Guildfile, line: int, col: int) -> Optional[Tuple[Range, str]]:
    """The range and current name of the renamable symbol at a position (None if none)."""
    sym = symbol_at(gf, line, col)
    if sym is None:
        return None
    if sym.kind == "operation":
        op = sym.operation
        if op is None or not op.key.local:
            raise RenameError(f"cannot rename '{sym.name}': operation is not defined in this file")
        return name_range(gf.lines, sym.range, op.name), op.name
    f = sym.flag
    if f is None:
        raise RenameError(f"cannot rename '{sym.name}': no such flag")
    if f.key is None or not f.key.local:
        raise RenameError(f"cannot rename '{f.name}': flag is not defined in this file")
    if sym.role == "assign" and sym.name != f.name:
        raise RenameError(f"cannot rename '{sym.name}': it is an alias of flag '{f.name}'")
    if sym.kind == "ref":
        return name_range(gf.lines, sym.range, f.name), f.name
    return sym.range, f.name


def rename(gf: Guildfile, line: int, col: int, new_name: str) -> List[Tuple[Range, str]]:
    """Text edits that rename the operation or flag at a position everywhere in the file.

    Raises :class:`RenameError` with a message for the user when the rename is refused.
    """
    sym = symbol_at(gf, line, col)
    if sym is None:
        raise RenameError("nothing to rename here")
    prep = prepare_rename(gf, line, col)
    if prep is None:
        raise RenameError("nothing to rename here")
    new_name = new_name.strip()
    if sym.kind == "operation":
        op = sym.operation
        if not _OP_NAME_RE.match(new_name):
            raise RenameError(f"invalid operation name '{new_name}'")
        _plain_name(new_name)
        if new_name == op.name:
            return []
        if new_name in op.model.operations:
            where = f"model '{op.model.name}'" if op.model.name else "this file"
            raise RenameError(f"an operation named '{new_name}' already exists in {where}")
        edits = [(op.key.range, new_name)]
        for r, _kind in _op_refs(gf, op):
            edits.append((name_range(gf.lines, r, op.name), new_name))
        return _checked(gf, _dedup_edits(edits), op.name, new_name)
    f = sym.flag
    if not _FLAG_NAME_RE.match(new_name):
        raise RenameError(f"invalid flag name '{new_name}'")
    _plain_name(new_name)
    if new_name == f.name:
        return []
    owner = f.operation
    if new_name in owner.flags or any(g.alias == new_name for g in owner.flags.values()):
        raise RenameError(f"a flag named '{new_name}' already exists in operation '{owner.name}'")
    edits = [(f.key.range, new_name)]
    edits.extend((r, new_name) for r in _flag_refs(gf, f))
    return _checked(gf, _dedup_edits(edits), f.name, new_name)


def _plain_name(name: str) -> None:
    """A new name must read back as that same text in YAML (`true`, `null`, `1` do not)."""
    import yaml

    from ..model.nodes import safe_load

    try:
        value = safe_load(name)
    except yaml.YAMLError:
        value = None
    if value != name or not isinstance(value, str):
        raise RenameError(f"'{name}' is not a plain name in YAML (it reads as {value!r}); choose another name")


def apply_edits(text: str, edits) -> str:
    """The text after non-overlapping ``(Range, new_text)`` edits (code-point columns)."""
    starts = line_starts(text)

    def off(line, col):
        return starts[line] + col if line < len(starts) else len(text)

    out = text
    for r, new in sorted(edits, key=lambda e: (e[0].start_line, e[0].start_col), reverse=True):
        a, b = off(r.start_line, r.start_col), off(r.end_line, r.end_col)
        out = out[:a] + new + out[b:]
    return out


def _checked(gf: Guildfile, edits, old: str, new: str):
    """Refuse a rename that guildls cannot carry out exactly.

    Every edit must replace exactly the old name (a use built from ``{{ params }}`` or
    spread over lines cannot be located), and the renamed document must check no worse
    than before: uses the model cannot attribute to this definition (through `extends`,
    `$include` or YAML anchors) would otherwise break silently."""
    from ..model import load
    from .diagnostics import diagnose

    for r, _new in edits:
        t = text_at(gf.lines, r)
        if t is None or t.strip("'\"") != old:
            raise RenameError(f"cannot rename '{old}': one of its uses (line {r.start_line + 1}) cannot be "
                              "located exactly (it is built from {{ params }} or spans lines)")
    before = _counts(diagnose(gf))
    after_problems = [p for p in diagnose(load(apply_edits(gf.text, edits), gf.path))
                      if p.severity in ("error", "warning")]
    after = _counts(after_problems)
    worse = [c for c in after if after[c] > before.get(c, 0)]
    if worse:
        first = next(p for p in after_problems if p.code in worse)
        raise RenameError(f"cannot rename '{old}' to '{new}' safely: it is also used where guildls cannot "
                          f"update it (through extends, $include or a YAML anchor); renaming would cause: "
                          f"line {first.range.start_line + 1}: {first.message}")
    return edits


def _counts(problems) -> Dict[str, int]:
    out: Dict[str, int] = {}
    for p in problems:
        if p.severity in ("error", "warning"):
            out[p.code] = out.get(p.code, 0) + 1
    return out


def _dedup_edits(edits):
    seen = set()
    out = []
    for r, t in edits:
        if r in seen:
            continue
        seen.add(r)
        out.append((r, t))
    out.sort(key=lambda e: e[0])
    return out


# -------------------------------------------------------------------------------------
# document symbols


def _lsp_range(r: Range) -> types.Range:
    return types.Range(start=types.Position(r.start_line, r.start_col),
                       end=types.Position(r.end_line, r.end_col))


def _span(a: Range, b: Range) -> Range:
    return Range(a.start_line, a.start_col, b.end_line, b.end_col) if (b.end_line, b.end_col) > (a.start_line, a.start_col) else a


def _flag_symbol(f: Flag) -> Optional[types.DocumentSymbol]:
    if f.key is None or not f.key.local:
        return None
    rng = _span(f.key.range, f.value.range) if f.value is not None and f.value.local else f.key.range
    detail = None
    if f.default is not None:
        detail = f"default {f.default!r}" if not isinstance(f.default, str) else f"default {f.default}"
    return types.DocumentSymbol(name=f.name, kind=types.SymbolKind.Field, range=_lsp_range(rng),
                                selection_range=_lsp_range(f.key.range), detail=detail)


def _op_symbol(op: Operation) -> types.DocumentSymbol:
    rng = _span(op.key.range, op.node.range) if op.node.local else op.key.range
    # only the flags written inside this operation: an outline child must lie within its
    # parent (inherited flags are shown where they are written, under their own operation)
    children = [s for s in (_flag_symbol(f) for f in op.flags.values())
                if s is not None and _within(s.range, rng)]
    wf = op.is_workflow
    desc = op.description.splitlines()[0] if op.description else None
    detail = ("workflow" + (f": {desc}" if desc else "")) if wf else desc
    return types.DocumentSymbol(
        name=op.name,
        kind=types.SymbolKind.Module if wf else types.SymbolKind.Function,
        range=_lsp_range(rng), selection_range=_lsp_range(op.key.range),
        detail=detail, children=children)


def _within(inner: types.Range, outer: Range) -> bool:
    return outer.contains(inner.start.line, inner.start.character) and outer.contains(inner.end.line,
                                                                                      inner.end.character)


def _model_ops(m: Model) -> List[Operation]:
    item = m.node.range
    out = []
    for op in m.operations.values():
        if not op.key.local:
            continue
        k = op.key.range
        if item.contains(k.start_line, k.start_col) and item.contains(k.end_line, k.end_col):
            out.append(op)
    out.sort(key=lambda o: (o.key.sl, o.key.sc))
    return out


def document_symbols(gf: Guildfile) -> List[types.DocumentSymbol]:
    if gf.format == "operations":
        m = gf.models.get("")
        return [_op_symbol(op) for op in _model_ops(m)] if m is not None else []
    if gf.format != "full":
        return []
    out = []
    models = [(m, "model") for m in gf.models.values()] + [(m, "config") for m in gf.configs.values()]
    for m, kind in models:
        if not m.node.local:
            continue
        sel = m.name_node.range if m.name_node is not None and m.name_node.local else Range(
            m.node.sl, m.node.sc, m.node.sl, m.node.sc)
        children = [_op_symbol(op) for op in _model_ops(m)]
        desc = m.description.splitlines()[0] if m.description else None
        out.append(types.DocumentSymbol(
            name=m.name or "(anonymous model)",
            kind=types.SymbolKind.Class if kind == "model" else types.SymbolKind.Interface,
            range=_lsp_range(m.node.range), selection_range=_lsp_range(sel),
            detail=kind + (f": {desc}" if desc else ""), children=children))
    out.sort(key=lambda s: (s.range.start.line, s.range.start.character))
    return out
