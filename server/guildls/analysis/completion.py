"""Completion: a pure function of the model, the text and a position.

``complete(gf, line, col)`` returns an ``lsprotocol`` ``CompletionList`` whose ranges are in
code-point columns (the LSP layer converts them). The cursor context comes from the raw
lines (see :mod:`.context`) so that it works while the document is not valid YAML yet.
"""

from __future__ import annotations

import dataclasses
import os
import re
import weakref
from typing import Any, Iterable, List, Optional, Tuple

from lsprotocol import types

from ..model import runspec
from ..model.guildfile import SOURCE_TYPES, Flag, Guildfile, Model, Operation
from .context import (ITEM, Context, Loc, block_keys, classify, context_at, schema_section,
                      _unquote)
from .refnames import EXEC_NAMES, MAIN_NAMES, WHOLE_WORD_NAMES  # noqa: F401  (re-exported)

MAX_ITEMS = 200

_TRIGGER_SUGGEST = types.Command(title="Trigger suggest", command="editor.action.triggerSuggest")

# step run options that reach the child run (long names)
STEP_RUN_OPTIONS = sorted(
    name for name, (param, _v, _m) in runspec.RUN_OPTIONS.items()
    if name.startswith("--") and param in runspec.STEP_USED_PARAMS
)


# -------------------------------------------------------------------------------------
# helpers


def fmt_value(v: Any) -> str:
    """A value as it would be written in a guild file or a step string."""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def first_line(s: Optional[str]) -> str:
    if not s:
        return ""
    return s.strip().splitlines()[0] if s.strip() else ""


def flag_type(f: Flag) -> str:
    """The flag's declared type, or the one Guild infers from its default."""
    if f.type:
        return str(f.type)
    return _infer_type(f.default) or ""


def flag_detail(f: Flag) -> str:
    parts = []
    t = flag_type(f)
    if t:
        parts.append(str(t))
    if f.default is not None:
        parts.append(f"default {fmt_value(f.default)}")
    return ", ".join(parts)


def _infer_type(v) -> Optional[str]:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    return None


def _md(text: str) -> Optional[types.MarkupContent]:
    return types.MarkupContent(kind=types.MarkupKind.Markdown, value=text) if text else None


def _edit(line: int, start: int, end: int, text: str) -> types.TextEdit:
    return types.TextEdit(
        range=types.Range(start=types.Position(line, start), end=types.Position(line, end)),
        new_text=text)


def _finish(items: List[types.CompletionItem], prefix: str = "") -> types.CompletionList:
    incomplete = False
    if len(items) > MAX_ITEMS:
        kept, incomplete = _narrow([(i.filter_text or i.label, i) for i in items], prefix)
        items = [i for _, i in kept]
    for n, it in enumerate(items):
        if it.sort_text is None:
            it.sort_text = f"{n:05d}"
    return types.CompletionList(is_incomplete=incomplete, items=items)


# -------------------------------------------------------------------------------------
# operations in scope


class _StepIndex:
    """What the steps of a document version can run, computed once per version: the
    candidates of each model (label, lower-case label, operation) and, for the cycle
    check, which workflows run each operation. Completion at a step then costs a walk
    up from the current workflow and the items it lists, not a scan of every workflow's
    steps (a 1,000-operation file: ~100 ms per request before)."""

    def __init__(self, gf: Guildfile):
        self.gf = weakref.ref(gf)
        self._targets: dict = {}
        self._callers: Optional[dict] = None
        self._items: dict = {}

    def targets(self, gf: Guildfile, model: Optional[Model]) -> List[tuple]:
        key = id(model)
        hit = self._targets.get(key)
        if hit is None:
            out: List[tuple] = []  # (label, lower-case label, operation, (model, op) names)
            seen = set()

            def add(label, op):
                if label not in seen:
                    seen.add(label)
                    out.append((label, label.lower(), op, (op.model.name, op.name)))

            if model is not None:
                for op in model.operations.values():
                    add(op.name, op)
            named = [m for m in gf.models.values() if m.name]
            if gf.format == "full" and (len(gf.models) > 1 or (model is not None and model.kind == "config")):
                for m in named:
                    for op in m.operations.values():
                        add(f"{m.name}:{op.name}", op)
            hit = self._targets[key] = out
        return hit

    def runners_of(self, gf: Guildfile, goal: Operation) -> set:
        """(model, op) names of the operations whose steps (transitively) run ``goal``."""
        if self._callers is None:
            callers: dict = {}
            for m in list(gf.models.values()) + list(gf.configs.values()):
                for op in m.operations.values():
                    for st in op.steps or ():
                        t = gf.find_operation(st.opspec, op.model) if st.opspec else None
                        if t is not None:
                            callers.setdefault((t.model.name, t.name), []).append(op)
            self._callers = callers
        out: set = set()
        stack = [(goal.model.name, goal.name)]
        while stack:
            for op in self._callers.get(stack.pop(), ()):
                k = (op.model.name, op.name)
                if k not in out:
                    out.add(k)
                    stack.append(k)
        return out

    def item_parts(self, op: Operation) -> tuple:
        hit = self._items.get(id(op))
        if hit is None:
            hit = self._items[id(op)] = _op_parts(op)
        return hit


def _op_parts(op: Operation) -> tuple:
    """(kind, detail, label details, resolve data) of an operation's completion item."""
    desc = first_line(op.description)
    wf = op.is_workflow
    detail = ("workflow" + (f" — {desc}" if desc else "")) if wf else desc or "operation"
    return (types.CompletionItemKind.Module if wf else types.CompletionItemKind.Function, detail,
            types.CompletionItemLabelDetails(description="workflow") if wf else None,
            {"kind": "operation", "model": op.model.name, "op": op.name})


_INDEXES: dict = {}


def _step_index(gf: Guildfile) -> _StepIndex:
    """The index of ``gf`` (a document version), dropped when the version is freed."""
    hit = _INDEXES.get(id(gf))
    if hit is not None and hit.gf() is gf:
        return hit
    idx = _INDEXES[id(gf)] = _StepIndex(gf)
    key = id(gf)
    weakref.finalize(gf, lambda: _INDEXES.pop(key, None) if _INDEXES.get(key) is idx and idx.gf() is None else None)
    return idx


def step_targets(gf: Guildfile, model: Optional[Model], exclude: Optional[Tuple[str, str]]) -> List[Tuple[str, Operation]]:
    """``(name to write, operation)`` for every operation a step of ``model`` can run.

    ``exclude`` is ``(model name, op name)`` of the workflow itself (never offered).
    """
    return [(c[0], c[2]) for c in _step_candidates(gf, model, exclude)]


def _step_candidates(gf: Guildfile, model: Optional[Model], exclude: Optional[Tuple[str, str]]):
    idx = _step_index(gf)
    current = model.operations.get(exclude[1]) if model is not None and exclude is not None else None
    # a workflow that runs the current one: choosing it would make a cycle
    banned = idx.runners_of(gf, current) if current is not None else set()
    if exclude is not None:
        banned.add(exclude)
    cands = idx.targets(gf, model)
    if not banned:
        return cands
    return [c for c in cands if c[3] not in banned]


def op_item(label: str, op: Operation, rng: types.Range, n: int, parts: Optional[tuple] = None) -> types.CompletionItem:
    """A step target's item; ``rng`` may be shared by the items of one answer."""
    kind, detail, details, data = parts or _op_parts(op)
    return types.CompletionItem(label=label, kind=kind, detail=detail, label_details=details,
                                text_edit=types.TextEdit(range=rng, new_text=label), sort_text=f"{n:05d}",
                                data=dict(data))


def _narrow(labelled: List[Tuple[str, Any]], prefix: str) -> Tuple[List[Tuple[str, Any]], bool]:
    """At most MAX_ITEMS candidates for a prefix: those starting with it first, then those
    containing it. The second value tells whether the list was cut (the client asks again
    as the user types)."""
    if len(labelled) <= MAX_ITEMS:
        return labelled, False
    p = prefix.lower()
    if p:
        first = [c for c in labelled if c[0].lower().startswith(p)]
        if len(first) < MAX_ITEMS:
            first += [c for c in labelled if p in c[0].lower() and not c[0].lower().startswith(p)]
        labelled = first
    return labelled[:MAX_ITEMS], True


def _op_items(gf, loc: Loc, line: int, start: int, end: int, prefix: str = "") -> types.CompletionList:
    exclude = (loc.model.name, loc.op_name) if loc.model is not None and loc.op_name else None
    cands = _step_candidates(gf, loc.model, exclude)
    cut = False
    if len(cands) > MAX_ITEMS:
        cut = True
        p = prefix.lower()
        if p:
            first = [c for c in cands if c[1].startswith(p)]
            if len(first) < MAX_ITEMS:
                first += [c for c in cands if p in c[1] and not c[1].startswith(p)]
            cands = first
        cands = cands[:MAX_ITEMS]
    idx = _step_index(gf)
    rng = types.Range(start=types.Position(line, start), end=types.Position(line, end))
    items = [op_item(c[0], c[2], rng, n, idx.item_parts(c[2])) for n, c in enumerate(cands)]
    return types.CompletionList(is_incomplete=cut, items=items)


# -------------------------------------------------------------------------------------
# flags


def _label_details(f: Flag) -> types.CompletionItemLabelDetails:
    """What VS Code shows beside the label: ``: float = 0.1`` and the description."""
    t = flag_type(f)
    detail = (f" {t}" if t else "") + (f" = {fmt_value(f.default)}" if f.default is not None else "")
    return types.CompletionItemLabelDetails(detail=detail or None, description=first_line(f.description) or None)


def is_dependency_flag(f: Flag) -> bool:
    """The flag Guild adds for an operation dependency (``operation:prepare``, or the
    dependency's ``name``): its value is a run id, not a setting."""
    return f.origin == "resource" and f.value is not None and f.attrs.get("arg-skip") is True \
        and f.attrs.get("default") is None


def _flag_items(target: Operation, assigned: Iterable[str], line: int, start: int, end: int,
                sep: str) -> List[types.CompletionItem]:
    assigned = set(assigned)
    items = []
    deps = []
    for n, f in enumerate(target.flags.values()):
        if f.name in assigned or (f.alias and f.alias in assigned):
            continue
        dep = is_dependency_flag(f)
        spec = f.alias or (f.name[len("operation:"):] if f.name.startswith("operation:") else f.name)
        item = types.CompletionItem(
            label=f.name,
            kind=types.CompletionItemKind.Reference if dep else types.CompletionItemKind.Field,
            detail=(f"run to use for dependency {spec}" if dep else flag_detail(f) or None),
            documentation=_md(f.description or ""),
            text_edit=_edit(line, start, end, f"{f.name}{sep}"),
            filter_text=f.name,
            sort_text=f"{(50000 if dep else 0) + n:05d}",
            command=_TRIGGER_SUGGEST if sep and not dep else None,
            label_details=(types.CompletionItemLabelDetails(description=f"run to use for dependency {spec}")
                           if dep else _label_details(f)),
        )
        (deps if dep else items).append(item)
    return items + deps


def flag_values(f: Optional[Flag]) -> List[Tuple[Any, str]]:
    """Candidate values of a flag: ``(value, note)``, the default first."""
    out: List[Tuple[Any, str]] = []
    if f is None:
        return out
    seen = []

    def add(v, note):
        for s in seen:
            if s == v and type(s) is type(v):
                return
        seen.append(v)
        out.append((v, note))

    if f.default is not None and not isinstance(f.default, (list, dict)):
        add(f.default, "default")
    raw = f.attrs.get("choices")
    if isinstance(raw, list):
        for c in raw:
            if isinstance(c, dict):
                if "value" in c and not isinstance(c["value"], (list, dict)):
                    add(c["value"], first_line(c.get("description")) if isinstance(c.get("description"), str) else "choice")
            elif not isinstance(c, (list, dict)) and c is not None:
                add(c, "choice")
    if f.type == "boolean" or isinstance(f.default, bool):
        add(True, "boolean")
        add(False, "boolean")
    return out


def _closed_choices(f: Optional[Flag]) -> Optional[List[Any]]:
    """The choices of a flag that accepts nothing else (None when it accepts others)."""
    if f is None or f.attrs.get("allow-other") or not f.choices:
        return None
    return f.choices


def _compatible(g: Flag, f: Optional[Flag]) -> bool:
    """Whether ``${g}`` can be a value of ``f``: same declared/inferred type, or unknown."""
    if f is None:
        return True
    want = flag_type(f)
    choices = _closed_choices(f)
    if not want and choices:
        kinds = {_infer_type(c) for c in choices if c is not None}
        want = kinds.pop() if len(kinds) == 1 else ""
    have = flag_type(g)
    if not want or not have:
        return True
    numbers = ("int", "float", "number")
    if want in numbers and have in numbers:
        return want != "int" or have == "int"
    return want == have


def _value_items(f: Optional[Flag], scope: Optional[Operation], line: int, start: int, end: int) -> List[types.CompletionItem]:
    items = []
    choices = _closed_choices(f)
    for v, note in flag_values(f):
        if choices is not None and not any(v == c and type(v) is type(c) for c in choices):
            continue
        text = fmt_value(v)
        items.append(types.CompletionItem(
            label=text, kind=types.CompletionItemKind.Value, detail=note,
            text_edit=_edit(line, start, end, text)))
    if scope is not None:
        for g in scope.flags.values():
            if is_dependency_flag(g) or (choices is not None and not _compatible(g, f)):
                continue
            text = "${" + g.name + "}"
            items.append(types.CompletionItem(
                label=text, kind=types.CompletionItemKind.Variable,
                detail=f"flag of {scope.name}" + (f" ({flag_detail(g)})" if flag_detail(g) else ""),
                label_details=_label_details(g),
                documentation=_md(g.description or ""),
                text_edit=_edit(line, start, end, text)))
    return items


def _ref_items(scope: Optional[Operation], extra: dict, line: int, start: int, end: int,
               head: str = "") -> List[types.CompletionItem]:
    """``name}`` items for an open ``${``: the edit covers the closing ``}`` when there is
    one (an editor's auto-closed brace), so the cursor ends after it."""
    items = []
    tail = "}"
    if scope is not None:
        for f in scope.flags.values():
            items.append(types.CompletionItem(
                label=f.name, kind=types.CompletionItemKind.Variable, label_details=_label_details(f),
                detail=f"flag of {scope.name}" + (f" ({flag_detail(f)})" if flag_detail(f) else ""),
                documentation=_md(f.description or ""),
                filter_text=head + f.name if head else None,
                text_edit=_edit(line, start, end, head + f.name + tail)))
    for name, doc in extra.items():
        items.append(types.CompletionItem(
            label=name, kind=types.CompletionItemKind.Constant, detail="Guild",
            filter_text=head + name if head else None,
            documentation=_md(doc), text_edit=_edit(line, start, end, head + name + tail)))
    return items


# -------------------------------------------------------------------------------------
# steps


def _step_run_text(ctx: Context, seg) -> Optional[str]:
    """The run string of the step item ``seg`` (from the raw text)."""
    keys = block_keys(ctx.lines, seg.line, seg.col, True)
    for k in ("opspec", "run"):
        if k in keys:
            v = keys[k][1].value
            if v:
                return _unquote(v.strip())
    if not keys:
        text = ctx.lines[seg.line]
        rest = text[seg.col + 1:].strip()
        if rest.startswith("#"):
            return None
        return _unquote(rest)
    return None


def step_target(gf: Guildfile, loc: Loc, ctx: Context) -> Optional[Operation]:
    if loc.step_seg is None:
        return None
    run = _step_run_text(ctx, loc.step_seg)
    if not run:
        return None
    words = run.split()
    if not words:
        return None
    return gf.find_operation(words[0], loc.model)


_WORD_END = re.compile(r"[^\s,\]'\"]*")
_NAME_END = re.compile(r"[^\s,\]'\"=]*")
_REF_NAME_END = re.compile(r"[\w.:-]*")


def _end(text: str, col: int, pattern=_WORD_END) -> int:
    """End of the word the cursor is in (what a completion replaces)."""
    return pattern.match(text, col).end()


STEP_KEYS = ("run", "name", "flags", "expect", "isolate-runs", "opspec")
# values where Guild never expands ${...} (spec 7.1)
_NOT_EXPANDED = ("description", "compare", "output-scalars", "sourcecode", "references")


def _step_string(gf: Guildfile, loc: Loc, ctx: Context, flow: bool = False) -> types.CompletionList:
    line, col, start, text = ctx.line, ctx.col, ctx.start, ctx.text
    typed = text[start:col]
    words = [(m.start() + start, m.group(0)) for m in re.finditer(r"\S+", typed)]
    if not words or not typed[-1:].strip():
        cur_start, cur = col, ""
        index = len(words)
    else:
        cur_start, cur = words[-1]
        index = len(words) - 1
    if index == 0:
        return _op_items(gf, loc, line, cur_start, _end(text, col), cur)
    opspec = words[0][1]
    target = gf.find_operation(opspec, loc.model)
    prev = words[index - 1][1] if index >= 1 else ""
    opt = runspec.RUN_OPTIONS.get(prev)
    if opt is not None and opt[1] and "=" not in prev:
        return _finish([])  # the value of an option
    if cur.startswith("-"):
        end = _end(text, col, _NAME_END)
        items = [types.CompletionItem(label=o, kind=types.CompletionItemKind.Keyword,
                                      detail="run option", text_edit=_edit(line, cur_start, end, o))
                 for o in STEP_RUN_OPTIONS]
        return _finish(items, cur)
    if "=" in cur:
        name, _, _val = cur.partition("=")
        vstart = cur_start + len(name) + 1
        f = target.find_flag(name) if target is not None else None
        return _finish(_value_items(f, loc.operation, line, vstart, _end(text, col)))
    if target is None:
        return _finish([])
    # flags assigned anywhere in this step (before or after the cursor)
    after = text[col:]
    cut = re.search(r"[,\]]" if flow else r"\s#", after)
    rest = after[:cut.start()] if cut else after
    in_word = bool(cur) and not text[col:col + 1].isspace()
    others = [w for _, w in words[1:index]] + rest.split()[1 if in_word else 0:]
    assigned = [w.split("=", 1)[0] for w in others if "=" in w]
    end = _end(text, col, _NAME_END) if cur else col
    sep = "" if cur and text[end:end + 1] == "=" else "="
    items = _flag_items(target, assigned, line, cur_start, end, sep)
    return _finish(items, cur)


# -------------------------------------------------------------------------------------
# keys and values from the schema


def _present_keys(ctx: Context) -> set:
    if not ctx.path:
        return set()
    seg = ctx.path[-1]
    keys = block_keys(ctx.lines, seg.line, seg.col, seg.key is ITEM)
    return {k for k, (ln, _e) in keys.items() if ln != ctx.line}


_ITEM_KEYS = ("model", "config", "package", "include")


def _key_items(sec_name: str, ctx: Context, loc: Loc, sort_base: int = 0) -> List[types.CompletionItem]:
    sec = schema_section(sec_name)
    names: List[Tuple[str, Any]] = []
    if sec is not None:
        names = list(sec.attrs.items())
    if sec_name == "model" and len(ctx.path) == 1:
        attrs = dict(names)
        names = [(k, attrs.get(k)) for k in _ITEM_KEYS] + [(n, a) for n, a in names if n not in _ITEM_KEYS]
    present = _present_keys(ctx)
    if sec_name == "source" and present & set(SOURCE_TYPES):
        present |= set(SOURCE_TYPES)  # a source has exactly one type key
    if sec_name == "dependency" and present & (set(SOURCE_TYPES) | {"resource", "sources"}):
        # one kind per requires item: an inline source, a named resource or a `sources:` list
        present |= set(SOURCE_TYPES) | {"resource", "sources"}
    if sec_name == "model" and len(ctx.path) == 1 and present & set(_ITEM_KEYS):
        present |= set(_ITEM_KEYS)  # an item has exactly one type
    end = ctx.col
    # replace the whole key being typed (up to the colon if there is one)
    if ctx.key_range is not None and ctx.position == "key":
        end = max(end, ctx.key_range[1])
    items = []
    for n, (name, attr) in enumerate(names):
        if name in present:
            continue
        desc = getattr(attr, "description", None) if attr is not None else None
        has_colon = ctx.key_range is not None and ctx.position == "key"
        items.append(types.CompletionItem(
            label=name,
            kind=types.CompletionItemKind.Property,
            detail=first_line(desc) or None,
            text_edit=_edit(ctx.line, ctx.start, end, name if has_colon else f"{name}: "),
            command=_TRIGGER_SUGGEST if not has_colon and _value_is_offered(sec_name, name, attr) else None,
            sort_text=f"{sort_base + n:05d}",
            data={"kind": "attribute", "section": sec_name, "name": name},
        ))
    return items


# keys whose value completion offers names (operations, modules, models)
_NAME_VALUED = {("dependency", "operation"), ("source", "operation"), ("operation", "main"),
                ("model", "extends")}


def _value_is_offered(sec_name: str, key: str, attr) -> bool:
    """Whether the value list has something to offer right after ``key: `` is inserted."""
    if (sec_name, key) in _NAME_VALUED:
        return True
    if attr is None:
        return False
    return bool(getattr(attr, "enum", None)) or list(getattr(attr, "types", None) or []) == ["boolean"]


# -------------------------------------------------------------------------------------
# snippets and modules

SNIPPETS = (
    ("operation", "An operation that runs a Python module with flags",
     "${1:train}:\n  description: ${2:Train a model}\n  main: ${3:train}\n  flags:\n    ${4:lr}: ${5:0.1}\n$0"),
    ("workflow", "An operation whose steps run other operations",
     "${1:pipeline}:\n  description: ${2:Prepare and train}\n  steps:\n    - ${3:prepare}\n    - ${4:train}\n$0"),
)
FULL_SNIPPETS = (
    ("model", "A model with an operation",
     "- model: ${1:name}\n  description: ${2}\n  operations:\n    ${3:train}:\n      main: ${4:train}\n$0"),
)


def _snippet_items(ctx: Context, full: bool) -> List[types.CompletionItem]:
    end = max(ctx.col, ctx.key_range[1] + 1 if ctx.key_range else ctx.col)
    end = min(end, len(ctx.text))
    out = []
    for n, (label, desc, body) in enumerate(FULL_SNIPPETS if full else SNIPPETS):
        out.append(types.CompletionItem(
            label=label, kind=types.CompletionItemKind.Snippet, detail=desc,
            label_details=types.CompletionItemLabelDetails(description="snippet"),
            insert_text_format=types.InsertTextFormat.Snippet,
            text_edit=_edit(ctx.line, 0 if full else ctx.start, end, body),
            filter_text=label, sort_text=f"{90000 + n:05d}"))
    return out


MAX_MODULES = 300
_SKIP_DIRS = {"__pycache__", "node_modules", "venv", "env", "site-packages", "build", "dist"}


def python_modules(project_dir: str, depth: int = 3) -> List[Tuple[str, str]]:
    """``(module name, relative path)`` of the project's Python files, as ``main`` names
    them (``pkg.train``); bounded in depth and count, hidden and tool folders skipped."""
    out: List[Tuple[str, str]] = []
    stack = [("", project_dir, 0)]
    while stack and len(out) < MAX_MODULES:
        prefix, d, level = stack.pop(0)
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError:
            continue
        for e in entries:
            if e.name.startswith((".", "_")) and e.name != "__main__.py":
                continue
            try:
                if e.is_file() and e.name.endswith(".py"):
                    mod = e.name[:-3]
                    if mod == "__main__":
                        if prefix:
                            out.append((prefix[:-1], os.path.relpath(e.path, project_dir)))
                        continue
                    if mod.isidentifier():
                        out.append((prefix + mod, os.path.relpath(e.path, project_dir)))
                elif e.is_dir() and level < depth and e.name not in _SKIP_DIRS and e.name.isidentifier():
                    stack.append((prefix + e.name + ".", e.path, level + 1))
            except OSError:
                continue
            if len(out) >= MAX_MODULES:
                break
    return out


def _module_items(gf: Guildfile, ctx: Context) -> List[types.CompletionItem]:
    if not gf.path:
        return []
    typed = ctx.typed
    if " " in typed.strip():
        return []  # arguments of main
    end = _end(ctx.text, ctx.col)
    return [types.CompletionItem(label=mod, kind=types.CompletionItemKind.Module, detail=rel,
                                 text_edit=_edit(ctx.line, ctx.start, end, mod))
            for mod, rel in python_modules(gf.dir)]


def _enum_items(sec_name: str, key: str, ctx: Context) -> List[types.CompletionItem]:
    sec = schema_section(sec_name)
    attr = sec.get(key) if sec is not None else None
    if attr is None:
        return []
    vals: List[Any] = []
    enum = getattr(attr, "enum", None) or []
    for v in enum:
        if v is not None and v not in vals:
            vals.append(v)
    types_ = getattr(attr, "types", None) or []
    if not vals and list(types_) == ["boolean"]:
        vals = ["yes", "no"]
    end = len(ctx.text.rstrip())
    end = max(end, ctx.col)
    return [types.CompletionItem(label=fmt_value(v), kind=types.CompletionItemKind.EnumMember,
                                 text_edit=_edit(ctx.line, ctx.start, max(ctx.col, end), fmt_value(v)))
            for v in vals]


def _names_items(names: Iterable[Tuple[str, str]], ctx: Context,
                 kind=types.CompletionItemKind.Reference) -> List[types.CompletionItem]:
    return [types.CompletionItem(label=n, kind=kind, detail=d or None,
                                 text_edit=_edit(ctx.line, ctx.start, ctx.col, n))
            for n, d in names]


# -------------------------------------------------------------------------------------
# entry point


def _open_ref(text: str, col: int) -> Optional[int]:
    """Column after ``${`` when the cursor is inside an unclosed reference."""
    before = text[:col]
    i = before.rfind("${")
    if i < 0 or "}" in before[i:]:
        return None
    if i > 0 and before[i - 1] == "\\":
        return None
    return i + 2


def complete(gf: Guildfile, line: int, col: int, lines: Optional[List[str]] = None) -> types.CompletionList:
    """Completion items at (line, col). ``lines`` is the current text when ``gf`` was
    parsed from an earlier version (names come from the model, the cursor context from
    the text)."""
    lines = gf.lines if lines is None else lines
    if not (0 <= line < len(lines)):
        return _finish([])
    ctx = context_at(lines, line, col)
    res = _complete(gf, ctx)
    # right after a trigger "-" or ":" with no space yet: YAML needs one
    s = ctx.start
    if s > 0 and ctx.text[s - 1] in ":-" and (ctx.position == "value" or ctx.item):
        for it in res.items:
            te = it.text_edit
            if isinstance(te, types.TextEdit) and te.range.start.character == s:
                te.new_text = " " + te.new_text
    return res


def _complete(gf: Guildfile, ctx: Context) -> types.CompletionList:
    line, col, lines = ctx.line, ctx.col, ctx.lines
    if ctx.text[:col].lstrip().startswith("#"):
        return _finish([])
    loc = classify(gf, ctx)
    scope = loc.operation
    if scope is None and loc.op_name is None and lines is gf.lines:
        scope = gf.operation_at(line)

    # ${ anywhere a value is
    ref_start = _open_ref(ctx.text, col)
    if ref_start is not None and ctx.position == "value" and ctx.key in _NOT_EXPANDED:
        return _finish([])  # Guild does not expand ${...} there
    # just typed `$` (the trigger character): offer `${name}` whole
    before = ctx.text[:col]
    if (ref_start is None and before.endswith("$") and not before.endswith("\\$")
            and (ctx.position == "value" or ctx.item) and ctx.key not in _NOT_EXPANDED
            and ctx.text[col:col + 1] != "{"):
        extra = {}
        if loc.kind == "section" and loc.section == "operation":
            extra = EXEC_NAMES if ctx.key in ("exec", "main") else {}
        return _finish(_ref_items(scope, extra, line, col, col, head="{"))
    if ref_start is not None and (ctx.position == "value" or ctx.item):
        extra = {}
        if loc.kind == "section" and loc.section == "operation":
            if ctx.key == "exec":
                extra = EXEC_NAMES
            elif ctx.key == "main":
                extra = MAIN_NAMES
        end = _end(ctx.text, col, _REF_NAME_END)
        if ctx.text[end:end + 1] == "}":
            end += 1  # replace the closing brace: the cursor lands after it
        return _finish(_ref_items(scope, extra, line, ref_start, end))

    if loc.kind == "section" and loc.section == "step":
        # `- cnn:` reads as a one-key mapping while a model-qualified step is being typed
        on_dash = bool(ctx.path) and ctx.path[-1].key is None and ctx.path[-1].line == line
        if (ctx.position == "value" and on_dash and ctx.key_range is not None and ctx.key not in STEP_KEYS
                and ctx.text[ctx.key_range[1]:col] == ":"):
            return _step_string(gf, loc, dataclasses.replace(ctx, position="key", start=ctx.key_range[0]))
        if (ctx.position == "key" and ctx.item) or (ctx.position == "value" and ctx.key in ("run", "opspec")):
            res = _step_string(gf, loc, ctx)
            if ctx.position == "key" and not re.search(r"\s", ctx.typed):
                cut = res.is_incomplete
                res = _finish(res.items + _key_items("step", ctx, loc, sort_base=50000), ctx.typed)
                res.is_incomplete = res.is_incomplete or cut
            return res

    # flow sequence of steps: steps: [prep, train lr=1]
    if (loc.kind == "section" and loc.section == "operation" and ctx.position == "value"
            and ctx.key == "steps" and ctx.typed.startswith("[")):
        typed = ctx.typed
        cut = max(typed.rfind(","), typed.rfind("["))
        first = ctx.start + cut + 1
        while first < col and ctx.text[first] == " ":
            first += 1
        if first < col and ctx.text[first] in "'\"":
            first += 1
        step_loc = dataclasses.replace(loc, section="step")
        return _step_string(gf, step_loc, dataclasses.replace(ctx, start=first), flow=True)

    if loc.kind == "step-flags":
        target = step_target(gf, loc, ctx)
        if ctx.position == "key":
            if target is None:
                return _finish([])
            present = _present_keys(ctx)
            end = max(col, ctx.key_range[1]) if ctx.key_range else col
            return _finish(_flag_items(target, present, line, ctx.start, end,
                                       "" if ctx.key_range else ": "), ctx.typed)
        f = target.find_flag(ctx.key) if target is not None and ctx.key else None
        return _finish(_value_items(f, scope, line, ctx.start, col))

    if loc.kind == "section":
        if ctx.position == "key":
            items = []
            if ctx.item and loc.section == "dependency" and loc.model is not None:
                items = _names_items([(r, "resource") for r in loc.model.resources], ctx)
            items.extend(_key_items(loc.section, ctx, loc, sort_base=len(items)))
            return _finish(items, ctx.typed)
        key = ctx.key
        if loc.section in ("dependency", "source") and key == "operation":
            return _op_items(gf, loc, line, ctx.start, col, ctx.typed)
        if loc.section == "operation" and key == "main" and _open_ref(ctx.text, col) is None:
            return _finish(_module_items(gf, ctx), ctx.typed)
        if loc.section == "model" and key == "extends":
            names = [(n, "model") for n in gf.models if n and n != (loc.model.name if loc.model else None)]
            names += [(n, "config") for n in gf.configs if n and n not in gf.models]
            return _finish(_names_items(names, ctx))
        if loc.section == "flag" and key == "default" and scope is not None and loc.flag_name:
            f = scope.flags.get(loc.flag_name)
            items = [types.CompletionItem(label=fmt_value(v), kind=types.CompletionItemKind.Value, detail=note,
                                          text_edit=_edit(line, ctx.start, col, fmt_value(v)))
                     for v, note in flag_values(f) if note != "default"]
            return _finish(items)
        if key:
            return _finish(_enum_items(loc.section, key, ctx))
    if ctx.position == "key" and not ctx.path:
        if loc.kind == "op-names":  # top level of an operations-only file
            return _finish(_snippet_items(ctx, False), ctx.typed)
    if ctx.fmt == "full" and ctx.position == "key" and ctx.item and len(ctx.path) == 1 \
            and ctx.path[0].line == line and not ctx.typed.strip():
        return _finish(_snippet_items(ctx, True))
    return _finish([])
