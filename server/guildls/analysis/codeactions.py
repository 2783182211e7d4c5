"""Quick fixes for diagnostics: "Change to 'X'" and "Define flag 'y'".

``quick_fixes(gf, diagnostics)`` takes the diagnostics of a ``codeAction`` request (with
code-point ranges: the LSP layer converts) and returns :class:`Fix` objects: a title, the
text edits and the diagnostic they fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

from ..model.guildfile import Guildfile, Operation
from ..model.nodes import MAP, Range
from ..model.textpos import text_at
from .context import block_end
from .navigation import index

FIXABLE = ("unknown-operation", "unknown-flag", "unknown-attribute", "undefined-reference", "invalid-flag-value")


@dataclass
class Fix:
    title: str
    edits: List[Tuple[Range, str]]
    diagnostic: Any = None
    preferred: bool = False


def _replace_range(lines: List[str], code: str, r: Range) -> Range:
    """The part of a diagnostic range that the suggestion replaces."""
    t = text_at(lines, r)
    if t is None:
        return r
    a, b = 0, len(t)
    if code == "undefined-reference" and t.startswith("${") and t.endswith("}"):
        a, b = 2, len(t) - 1
    elif len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
        a, b = 1, len(t) - 1
    return Range(r.start_line, r.start_col + a, r.end_line, r.start_col + b)


def _as_range(r) -> Range:
    if isinstance(r, Range):
        return r
    return Range(r.start.line, r.start.character, r.end.line, r.end.character)


def _ref_name(lines, r: Range, data) -> Optional[str]:
    if isinstance(data, dict) and isinstance(data.get("name"), str):
        return data["name"]
    t = text_at(lines, r)
    if t and t.startswith("${") and t.endswith("}"):
        return t[2:-1]
    return None


def _ref_operation(gf: Guildfile, r: Range) -> Optional[Operation]:
    for ref in index(gf).refs.get(r.start_line, ()):
        if ref.range == r:
            return ref.operation
    for ref in gf.refs:
        if ref.range.start_line == r.start_line and ref.range.contains(r.start_line, r.start_col):
            return ref.operation
    return gf.operation_at(r.start_line)


def define_flag_edit(gf: Guildfile, op: Operation, name: str, default: str = "''") -> Optional[Tuple[Range, str]]:
    """An edit that adds ``name: <default>`` under the operation's ``flags:`` (created if
    absent), with the document's own line ending. Never ``null``: a step flag whose value
    is null is dropped silently."""
    edit = _define_flag_edit(gf, op, f"{name}: {default}")
    if edit is None:
        return None
    eol = "\r\n" if "\r\n" in gf.text else "\n"
    rng, text = edit
    return rng, text.replace("\n", eol) if eol != "\n" else text


def _define_flag_edit(gf: Guildfile, op: Operation, entry: str) -> Optional[Tuple[Range, str]]:
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in gf.lines]
    if not op.key.local or op.node.kind != MAP or not op.node.local or op.node.style:
        return None
    key_col = op.key.sc
    own = [(k, v) for k, v in op.node.items() if k.local and k.sl > op.key.sl]
    attr_col = own[0][0].sc if own else key_col + 2
    unit = max(2, attr_col - key_col)
    pair = op.node.get_pair("flags")
    if pair is not None and pair[0].local and pair[0].sl > op.key.sl:
        fk, fv = pair
        if fv.kind == MAP and fv.style:  # flow mapping {a: 1}
            if fv.el >= len(lines):
                return None
            pos = Range(fv.el, fv.ec - 1, fv.el, fv.ec - 1)
            return pos, (f", {entry}" if fv.value else entry)
        if fv.kind == MAP and fv.value:
            items = [k for k, _ in fv.items() if k.local]
            indent = items[0].sc if items else fk.sc + unit
            return _insert_after(lines, block_end(lines, fk.sl, fk.sc), f"{' ' * indent}{entry}")
        if fv.is_null:
            return _insert_after(lines, fk.sl, f"{' ' * (fk.sc + unit)}{entry}")
        return None
    end = block_end(lines, op.key.sl, key_col)
    text = f"{' ' * attr_col}flags:\n{' ' * (attr_col + unit)}{entry}"
    return _insert_after(lines, end, text)


def _insert_after(lines: List[str], line: int, text: str) -> Tuple[Range, str]:
    if line + 1 < len(lines):
        return Range(line + 1, 0, line + 1, 0), text + "\n"
    end = len(lines[line])
    return Range(line, end, line, end), "\n" + text


def quick_fixes(gf: Guildfile, diagnostics: List[Any]) -> List[Fix]:
    """Fixes for the given diagnostics (``lsprotocol`` Diagnostics or objects with
    ``code``, ``range`` and ``data``)."""
    lines = gf.lines
    out: List[Fix] = []
    for d in diagnostics:
        code = getattr(d, "code", None)
        if code not in FIXABLE:
            continue
        rng = _as_range(d.range)
        data = getattr(d, "data", None)
        sugs = data.get("suggestions") if isinstance(data, dict) else None
        target = _replace_range(lines, code, rng)
        for i, s in enumerate(sugs or []):
            if not isinstance(s, str):
                continue
            out.append(Fix(f"Change to '{s}'", [(target, s)], d, preferred=(i == 0)))
        if code == "undefined-reference":
            name = _ref_name(lines, rng, data)
            op = _ref_operation(gf, rng)
            if name and op is not None and name not in op.flags:
                edit = define_flag_edit(gf, op, name, _yaml_value(_passed_flag_default(gf, op, rng)))
                if edit is not None:
                    out.append(Fix(f"Define flag '{name}'", [edit], d, preferred=not sugs))
        elif code == "unknown-flag" and isinstance(data, dict):
            op = gf.find_operation(data.get("operation") or "", _step_model(gf, rng))
            name = text_at(lines, rng)
            if op is not None and name and op.key.local and name not in op.flags:
                value = data.get("value")
                edit = define_flag_edit(gf, op, name, _yaml_text(value) if isinstance(value, str) and value else "''")
                if edit is not None:
                    out.append(Fix(f"Define flag '{name}' in '{op.name}'", [edit], d, preferred=not sugs))
        elif code == "invalid-flag-value" and isinstance(data, dict):
            choices = data.get("choices")
            if isinstance(choices, list) and choices:
                for i, c in enumerate(choices):
                    out.append(Fix(f"Change to '{_fmt(c)}'", [(rng, _fmt(c))], d, preferred=(i == 0)))
            elif "default" in data and data["default"] is not None:
                out.append(Fix(f"Use the default '{_fmt(data['default'])}'", [(rng, _fmt(data["default"]))], d,
                               preferred=True))
    return out


def _fmt(v: Any) -> str:
    from .completion import fmt_value

    return fmt_value(v)


_PLAIN = re.compile(r"[A-Za-z_][\w.-]*")
_YAML_WORDS = {"y", "n", "yes", "no", "true", "false", "on", "off", "null", "nan", "inf"}


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _yaml_value(v: Any) -> str:
    """A flag default as YAML text; an empty string when unknown (never null)."""
    if v is None:
        return "''"
    if isinstance(v, str):
        return v if _PLAIN.fullmatch(v) and v.lower() not in _YAML_WORDS else _quoted(v)
    return _fmt(v)


def _yaml_text(text: str) -> str:
    """A value typed in a step (``momentum=0.9``) as the default of a new flag: as written
    when YAML reads it the same way, else quoted."""
    if not text.strip() or text.startswith(tuple("${[]'\"*&!%@`|>#,?-:")) or ": " in text or " #" in text:
        return _quoted(text)
    return text


def _step_model(gf: Guildfile, rng: Range):
    op = gf.operation_at(rng.start_line)
    return op.model if op is not None else None


def _passed_flag_default(gf: Guildfile, op: Operation, rng: Range) -> Any:
    """For ``${name}`` passed to a step flag (``train lr=${lr}``): the default of the step
    target's flag, a good default for the workflow's new flag."""
    for st in op.steps or ():
        for a in list(st.assigns) + list(st.flags_map or ()):
            vr = a.value_range
            if vr is None or not (vr.start_line <= rng.start_line <= vr.end_line):
                continue
            if vr.start_line == rng.start_line and not (vr.start_col <= rng.start_col <= vr.end_col):
                continue
            target = gf.find_operation(st.opspec, op.model) if st.opspec else None
            f = target.find_flag(a.name) if target is not None else None
            if f is not None and isinstance(f.default, (str, int, float, bool)):
                return f.default
    return None


def fix_all_edits(gf: Guildfile, problems: List[Any]) -> List[Tuple[Range, str]]:
    """The preferred fix of each problem, as one list of non-overlapping edits (a problem
    whose fix touches text another fix already changes is left for later)."""
    edits: List[Tuple[Range, str]] = []
    taken: List[Range] = []

    def overlaps(r: Range) -> bool:
        a = (r.start_line, r.start_col), (r.end_line, r.end_col)
        for t in taken:
            b = (t.start_line, t.start_col), (t.end_line, t.end_col)
            if a[0] < b[1] and b[0] < a[1] or a == b:
                return True
        return False

    for fix in quick_fixes(gf, problems):
        if not fix.preferred:
            continue
        if any(overlaps(r) for r, _ in fix.edits):
            continue
        for r, t in fix.edits:
            taken.append(r)
            edits.append((r, t))
    return edits
