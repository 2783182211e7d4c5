"""Hover: Markdown for the operation, flag, reference or attribute key at a position.

``hover(gf, line, col)`` returns ``(markdown, range)`` or None; ranges are the model's.
"""

from __future__ import annotations

import os

from typing import List, Optional, Tuple

from ..model.guildfile import Flag, Guildfile, Operation
from ..model.nodes import Range
from .completion import EXEC_NAMES, flag_type, fmt_value
from .context import classify, context_at, schema_describe, schema_section
from .navigation import Symbol, named_definition, symbol_at


def _cell(v) -> str:
    s = "" if v is None else str(v)
    return s.replace("|", "\\|").replace("\n", " ")


def _code(v) -> str:
    s = fmt_value(v) if not isinstance(v, str) else v
    return f"`{s}`" if s != "" else "`''`"


def _choices_text(f: Flag) -> str:
    ch = f.choices
    if not ch:
        return ""
    return ", ".join(_code(c) for c in ch)


def _where(op: Operation) -> str:
    kind = "workflow" if op.is_workflow else "operation"
    if op.model.name:
        return f"{kind} `{op.name}` of model `{op.model.name}`"
    return f"{kind} `{op.name}`"


def operation_markdown(op: Operation) -> str:
    kind = "workflow" if op.is_workflow else "operation"
    head = f"**{op.fullname}** · {kind}"
    if op.origin:
        head += f" (from {op.origin})"
    parts = [head]
    if op.description:
        parts.append(op.description)
    if op.flags:
        rows = ["| Flag | Type | Default | Choices | Description |", "|---|---|---|---|---|"]
        for f in op.flags.values():
            rows.append("| `{}` | {} | {} | {} | {} |".format(
                _cell(f.name), _cell(flag_type(f)),
                _cell(_code(f.default)) if f.default is not None else "",
                _cell(_choices_text(f)), _cell((f.description or "").splitlines()[0] if f.description else "")))
        parts.append("\n".join(rows))
    elif op.flags_open:
        parts.append("_Flags are imported when the operation runs._")
    else:
        parts.append("_No flags._")
    if op.steps:
        lines = [f"Steps ({len(op.steps)}):"]
        for i, st in enumerate(op.steps, 1):
            text = st.run or (st.opspec or "?")
            name = f" (`{st.name}`)" if st.name else ""
            lines.append(f"{i}. `{text}`{name}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def flag_markdown(f: Flag) -> str:
    owner = f.operation
    head = f"**{f.name}** · flag of {_where(owner)}" if owner is not None else f"**{f.name}** · flag"
    parts = [head]
    if f.description:
        parts.append(f.description)
    facts: List[str] = []
    t = flag_type(f)
    if t:
        facts.append(f"- type: `{t}`")
    facts.append(f"- default: {_code(f.default)}" if f.default is not None else "- default: none (`null`)")
    if f.choices:
        facts.append(f"- choices: {_choices_text(f)}")
    if f.min is not None or f.max is not None:
        lo = fmt_value(f.min) if f.min is not None else ""
        hi = fmt_value(f.max) if f.max is not None else ""
        facts.append(f"- range: {lo} … {hi}".replace("  ", " "))
    if f.required:
        facts.append("- required")
    if f.alias:
        facts.append(f"- alias: `{f.alias}`")
    if f.origin == "resource":
        facts.append("- created by an `operation:` dependency (resource flag)")
    parts.append("\n".join(facts))
    if f.key is not None and f.key.local:
        parts.append(f"Defined on line {f.key.sl + 1}.")
    if f.source is not None:
        verb = "Imported from" if f.origin == "script" else "Read by"
        parts.append(f"{verb} `{os.path.basename(f.source[0])}`, line {f.source[1] + 1}.")
    return "\n\n".join(parts)


def ref_markdown(sym: Symbol) -> str:
    name = sym.name
    op = sym.scope
    f = sym.flag
    if f is not None:
        where = (f"line {f.key.sl + 1}" if f.key is not None and f.key.local
                 else f"`{os.path.basename(f.source[0])}` line {f.source[1] + 1}" if f.source is not None
                 else "a dependency")
        default = _code(f.default) if f.default is not None else "none (`null`)"
        text = (f"`${{{name}}}` → flag **{f.name}** of {_where(f.operation or op)}, defined on {where}; "
                f"default {default}")
        if f.description:
            text += "\n\n" + f.description
        return text
    if name in EXEC_NAMES:
        return f"`${{{name}}}` · Guild value: {EXEC_NAMES[name]}"
    if op.flags_open:
        return f"`${{{name}}}`: not a flag written in this file; {_where(op)} imports its flags when it runs."
    return f"`${{{name}}}` is not defined: {_where(op)} has no flag `{name}`."


def _attribute_hover(gf: Guildfile, line: int, col: int) -> Optional[Tuple[str, Range]]:
    ctx = context_at(gf.lines, line, col)
    if ctx.key_range is None or not (ctx.key_range[0] <= col <= ctx.key_range[1]):
        return None
    key = ctx.text[ctx.key_range[0]:ctx.key_range[1]]
    key = key[1:-1] if len(key) >= 2 and key[0] == key[-1] and key[0] in "'\"" else key
    loc = classify(gf, ctx)
    if loc.kind != "section":
        return None
    sec = schema_section(loc.section)
    attr = sec.get(key) if sec is not None else None
    if attr is None:
        return None
    rng = Range(line, ctx.key_range[0], line, ctx.key_range[1])
    md = schema_describe(attr) or ""
    if not md:
        return None
    return md, rng


def hover(gf: Guildfile, line: int, col: int) -> Optional[Tuple[str, Range]]:
    if not (0 <= line < len(gf.lines)):
        return None
    sym = symbol_at(gf, line, col)
    if sym is not None:
        if sym.kind == "operation":
            if sym.operation is None:
                return None
            return operation_markdown(sym.operation), sym.range
        if sym.kind == "ref":
            return ref_markdown(sym), sym.range
        if sym.flag is not None:
            return flag_markdown(sym.flag), sym.range
        return None
    return _attribute_hover(gf, line, col) or _parent_hover(gf, line, col)


def _parent_hover(gf: Guildfile, line: int, col: int) -> Optional[Tuple[str, Range]]:
    """On a name in ``extends``: the parent model or config and what it brings."""
    if not named_definition(gf, line, col):
        return None
    text = gf.lines[line]
    a = col
    while a > 0 and (text[a - 1].isalnum() or text[a - 1] in "-_./"):
        a -= 1
    b = col
    while b < len(text) and (text[b].isalnum() or text[b] in "-_./"):
        b += 1
    name = text[a:b]
    m = gf.models.get(name) or gf.configs.get(name)
    if m is None:
        return None
    parts = [f"**{m.name}** · {'config' if m.kind == 'config' else 'model'}"]
    if m.description:
        parts.append(m.description)
    if m.operations:
        parts.append("Operations: " + ", ".join(f"`{n}`" for n in sorted(m.operations)))
    return "\n\n".join(parts), Range(line, a, line, b)
