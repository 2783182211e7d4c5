"""Cursor context from the raw text: where in the guild file structure a position is.

Completion runs on text that is often not valid YAML yet (``    - tra`` at the end of the
file, ``flags:`` with nothing after it), so the context of a position is found from the
lines themselves: the current line is split into its sequence dashes, key and value, and
the enclosing keys are found by scanning upward for less-indented lines. The model is then
used to resolve what those names mean (which operation, which flags).

A :class:`Loc` classifies the container of the cursor: the schema section whose attribute
keys belong there (``operation``, ``flag``, ``step``...) or a special place (the flag
names of an operation, a step's ``flags`` mapping, the operation names of a model).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ..model.guildfile import Guildfile, Model, Operation

ITEM = None  # a sequence item in a path

_KEY_RE = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"\-][^#]*?|-[^\s#][^#]*?)\s*:(?=\s|$)""")


@dataclass
class Element:
    kind: str  # 'item' | 'key'
    col: int
    key: Optional[str] = None
    key_end: int = 0
    value_col: int = 0  # first non-blank column after the colon (or end of line)
    value: str = ""  # raw value text after the colon (comment stripped roughly)


def _unquote(s: str) -> str:
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        return s[1:-1]
    return s


def parse_line(text: str) -> Tuple[List[Element], int]:
    """The sequence dashes and the key of a line, and the column where its content starts."""
    els: List[Element] = []
    n = len(text)
    i = 0
    while i < n and text[i] == " ":
        i += 1
    while i < n and text[i] == "-" and (i + 1 == n or text[i + 1] in " \t"):
        els.append(Element("item", i))
        i += 1
        while i < n and text[i] in " \t":
            i += 1
    if i < n and text[i] != "#":
        m = _KEY_RE.match(text, i)
        if m and not text.startswith(("{", "["), i):
            raw = m.group(1)
            key_end = i + len(raw)
            j = m.end() + 1
            while j < n and text[j] in " \t":
                j += 1
            value = text[j:] if j < n else ""
            if value.startswith("#"):
                value = ""
            els.append(Element("key", i, _unquote(raw), key_end, min(j, n), value.rstrip()))
    return els, i


def _is_blank(text: str) -> bool:
    s = text.strip()
    return not s or s.startswith("#")


@dataclass
class Segment:
    """One enclosing container: a mapping key or a sequence item."""

    key: Optional[str]  # None for a sequence item
    line: int
    col: int


@dataclass
class Context:
    line: int
    col: int
    text: str
    path: List[Segment]  # enclosing containers, root first (includes dashes of this line)
    position: str  # 'key' (a key or a scalar item is being typed) | 'value' (after "key:")
    key: Optional[str] = None  # the key of this line when position == 'value'
    key_range: Optional[Tuple[int, int]] = None  # columns of this line's key (if any)
    item: bool = False  # the cursor is in a sequence item of this line (after "- ")
    start: int = 0  # column where the scalar being typed starts (after dash / colon / quote)
    fmt: str = "operations"  # 'full' | 'operations'
    lines: List[str] = field(default_factory=list)

    @property
    def keys(self) -> List[Optional[str]]:
        return [s.key for s in self.path]

    @property
    def typed(self) -> str:
        """The text of the value or key typed so far (from ``start`` to the cursor)."""
        return self.text[self.start:self.col]


def document_format(lines: List[str]) -> str:
    for t in lines:
        if _is_blank(t) or t.startswith(("---", "%")):
            continue
        return "full" if re.match(r"-(\s|$)", t) else "operations"
    return "operations"


def context_at(lines: List[str], line: int, col: int) -> Context:
    text = lines[line] if 0 <= line < len(lines) else ""
    col = max(0, min(col, len(text)))
    els, content = parse_line(text)
    path: List[Segment] = []
    position = "key"
    key = None
    key_range = None
    item = False
    start = min(content, col)
    here: List[Segment] = []
    for e in els:
        if e.kind == "item":
            if col > e.col:
                here.append(Segment(ITEM, line, e.col))
                item = True
                start = min(content, col)
        else:
            key_range = (e.col, e.key_end)
            if col > e.key_end:
                position = "value"
                key = e.key
                item = False
                start = min(e.value_col, col) if col >= e.value_col else col
            else:
                start = e.col
    # the scalar may open with a quote
    if start < col and text[start:start + 1] in ("'", '"'):
        start += 1
    # ancestors from the lines above
    if not text.strip():
        limit, first_is_item = col, False
    else:
        limit = els[0].col if els else content
        first_is_item = bool(els) and els[0].kind == "item"
    above: List[Segment] = []
    inds, prev_le, prev_lt = _outline(lines)
    ln = line - 1
    while ln >= 0:
        if limit <= 0 and not first_is_item:
            break
        ind = inds[ln]
        if ind < 0:  # blank or comment
            ln -= 1
            continue
        if ind > limit:  # deeper: jump over the whole deeper block
            ln = prev_le[ln]
            continue
        if ind == limit and not first_is_item:  # a sibling (and its siblings)
            ln = prev_lt[ln]
            continue
        lels, _ = parse_line(lines[ln])
        if not lels:
            ln -= 1
            continue
        last = lels[-1]
        compact = (first_is_item and last.kind == "key" and last.col == limit and not last.value)
        if ind == limit and not compact:
            ln = prev_le[ln]  # a sibling item
            continue
        for e in reversed(lels):
            if e.col < limit or (compact and e is last):
                above.append(Segment(e.key if e.kind == "key" else ITEM, ln, e.col))
        limit = ind
        first_is_item = lels[0].kind == "item"
        ln = prev_le[ln]
    path = list(reversed(above)) + here
    return Context(line, col, text, path, position, key, key_range, item, start,
                   document_format(lines), lines)


def _indent(t: str) -> int:
    return len(t) - len(t.lstrip(" "))


_OUTLINES: List[Tuple[List[str], Tuple[List[int], List[int], List[int]]]] = []


def _outline(lines: List[str]) -> Tuple[List[int], List[int], List[int]]:
    """Per line: its indent (-1 for blank and comment lines), and the nearest previous
    non-blank line with an indent <= / < its own (-1 if none). Built once per text (a few
    recent ones are kept) so that the upward scan jumps over deeper blocks and siblings."""
    for cached_lines, data in _OUTLINES:
        if cached_lines is lines:
            return data
    inds: List[int] = []
    prev_le: List[int] = []
    prev_lt: List[int] = []
    stack: List[int] = []
    for i, t in enumerate(lines):
        s = t.lstrip(" ")
        if not s.strip() or s.startswith("#"):
            inds.append(-1)
            prev_le.append(-1)
            prev_lt.append(-1)
            continue
        ind = len(t) - len(s)
        inds.append(ind)
        while stack and inds[stack[-1]] > ind:
            stack.pop()
        prev_le.append(stack[-1] if stack else -1)
        while stack and inds[stack[-1]] == ind:
            stack.pop()
        prev_lt.append(stack[-1] if stack else -1)
        stack.append(i)
    data = (inds, prev_le, prev_lt)
    _OUTLINES.insert(0, (lines, data))
    del _OUTLINES[4:]
    return data


def block_keys(lines: List[str], seg_line: int, seg_col: int, is_item: bool,
               want: Tuple[str, ...] = ()) -> Dict[str, Tuple[int, Element]]:
    """The keys of the mapping under a segment: ``key -> (line, element)``.

    For an item segment, the mapping starts on the dash's own line; for a key segment, on
    the following lines, at the column of the first deeper line. With ``want``, the scan
    stops as soon as one of those keys is found.
    """
    out: Dict[str, Tuple[int, Element]] = {}
    key_col = None
    if is_item:
        els, _ = parse_line(lines[seg_line])
        for i, e in enumerate(els):
            if e.kind == "item" and e.col == seg_col:
                rest = els[i + 1:]
                if rest and rest[0].kind == "key":
                    key_col = rest[0].col
                    out[rest[0].key] = (seg_line, rest[0])
                    if rest[0].key in want:
                        return out
                break
    for ln in range(seg_line + 1, len(lines)):
        t = lines[ln]
        ind = _indent(t)
        if key_col is not None and ind > key_col:
            continue  # deeper content: no need to parse it
        if _is_blank(t):
            continue
        els, content = parse_line(t)
        first = els[0].col if els else content
        if first < seg_col or (first == seg_col and (is_item or not (els and els[0].kind == "item"))):
            break
        if key_col is None:
            if els and els[0].kind == "key":
                key_col = first
            else:
                break
        if first == key_col and els and els[0].kind == "key":
            out.setdefault(els[0].key, (ln, els[0]))
            if els[0].key in want:
                break
    return out


def block_end(lines: List[str], line: int, col: int) -> int:
    """Last non-blank line of the block that starts with the key at ``(line, col)``."""
    last = line
    for ln in range(line + 1, len(lines)):
        t = lines[ln]
        if _indent(t) > col and t.strip():
            if not t.lstrip().startswith("#"):
                last = ln
            continue
        if _is_blank(t):
            continue
        els, content = parse_line(t)
        first = els[0].col if els else content
        if first <= col and not (first == col and els and els[0].kind == "item"):
            break
        last = ln
    return last


# -------------------------------------------------------------------------------------
# classification


@dataclass
class Loc:
    """What the container of a position is."""

    kind: str  # 'section' | 'flag-names' | 'step-flags' | 'op-names' | 'resource-names' | 'unknown'
    section: Optional[str] = None  # schema section for 'section'
    model: Optional[Model] = None
    operation: Optional[Operation] = None
    op_name: Optional[str] = None
    flag_name: Optional[str] = None
    step_seg: Optional[Segment] = None  # the step item for 'step' / 'step-flags'
    item_type: Optional[str] = None


_ITEM_TYPES = ("model", "config", "package", "include")


def item_type(lines: List[str], seg: Segment) -> Tuple[Optional[str], Optional[str]]:
    """Type and name of a top-level item (``model``, ``config``...)."""
    keys = block_keys(lines, seg.line, seg.col, True, want=_ITEM_TYPES)
    for t in _ITEM_TYPES:
        if t in keys:
            return t, _unquote(keys[t][1].value.strip())
    if "operations" in keys:
        return "model", ""
    return None, None


def _op_section(rest: List[Optional[str]]) -> Tuple[str, Optional[str]]:
    """Classify a path below an operation mapping: (kind, section)."""
    if not rest:
        return "section", "operation"
    head = rest[0]
    tail = rest[1:]
    if head == "flags":
        if not tail:
            return "flag-names", None
        if len(tail) == 1:
            return "section", "flag"
        if tail[1] == "choices" and len(tail) == 3 and tail[2] is ITEM:
            return "section", "choice"
        return "unknown", None
    if head == "steps":
        if len(tail) == 1 and tail[0] is ITEM:
            return "section", "step"
        if len(tail) == 2 and tail[0] is ITEM and tail[1] == "flags":
            return "step-flags", None
        if len(tail) == 3 and tail[0] is ITEM and tail[1] == "expect" and tail[2] is ITEM:
            return "section", "check"
        if len(tail) == 2 and tail[0] is ITEM and tail[1] == "expect":
            return "section", "check"
        return "unknown", None
    if head == "requires":
        if len(tail) == 1 and tail[0] is ITEM:
            return "section", "dependency"
        if not tail:
            return "section", "dependency"
        if len(tail) == 3 and tail[0] is ITEM and tail[1] == "sources" and tail[2] is ITEM:
            return "section", "source"
        return "unknown", None
    if head == "sourcecode":
        if not tail:
            return "section", "sourcecode"
        if tail == [ITEM] or (len(tail) == 2 and tail[0] == "select" and tail[1] is ITEM):
            return "section", "sourcecode-rule"
        return "unknown", None
    if head == "optimizer" and not tail:
        return "section", "optimizer"
    if head == "publish" and not tail:
        return "section", "publish"
    return "unknown", None


def classify(gf: Guildfile, ctx: Context, path: Optional[List[Segment]] = None) -> Loc:
    """Classify the container ``path`` (default: the context's path)."""
    lines = ctx.lines
    path = ctx.path if path is None else path
    keys = [s.key for s in path]
    model: Optional[Model] = None
    if ctx.fmt == "full":
        if not keys or keys[0] is not ITEM:
            return Loc("unknown")
        itype, iname = item_type(lines, path[0])
        rest = keys[1:]
        if itype == "model":
            model = gf.models.get(iname or "")
        elif itype == "config":
            model = gf.configs.get(iname or "")
        if not rest:
            if itype in ("package", "include"):
                return Loc("section", itype, item_type=itype)
            return Loc("section", "model", model=model, item_type=itype or "model")
        head, tail = rest[0], rest[1:]
        if head == "operations":
            if not tail:
                return Loc("op-names", model=model, item_type=itype)
            op_name = tail[0]
            base = 3
        elif head == "operation-defaults":
            kind, section = _op_section(tail)
            return Loc(kind, section, model=model, item_type=itype)
        elif head == "resources":
            if not tail:
                return Loc("resource-names", model=model, item_type=itype)
            if len(tail) == 1:
                return Loc("section", "resource", model=model, item_type=itype)
            if len(tail) == 3 and tail[1] == "sources" and tail[2] is ITEM:
                return Loc("section", "source", model=model, item_type=itype)
            if len(tail) == 2 and tail[1] is ITEM:
                return Loc("section", "source", model=model, item_type=itype)
            return Loc("unknown", model=model)
        elif head == "flags" and len(tail) == 1:
            return Loc("section", "flag", model=model, flag_name=tail[0], item_type=itype)
        elif head == "flags" and not tail:
            return Loc("flag-names", model=model, item_type=itype)
        elif head == "sourcecode":
            kind, section = _op_section(rest)
            return Loc(kind, section, model=model, item_type=itype)
        else:
            return Loc("unknown", model=model, item_type=itype)
    else:
        model = gf.models.get("")
        if not keys:
            return Loc("op-names", model=model)
        op_name = keys[0]
        base = 1  # index of the first key below the operation
    if op_name is ITEM:
        return Loc("unknown", model=model)
    op = model.operations.get(op_name) if model is not None else None
    rest = keys[base:]
    kind, section = _op_section(rest)
    loc = Loc(kind, section, model=model, operation=op, op_name=op_name)
    if rest and rest[0] == "flags" and len(rest) >= 2:
        loc.flag_name = rest[1]
    if rest and rest[0] == "steps" and len(rest) >= 2 and rest[1] is ITEM:
        loc.step_seg = path[base + 1]  # the step's dash
    return loc


# -------------------------------------------------------------------------------------
# schema access (the one source of attribute docs)


def schema_section(name: Optional[str]):
    """The schema section ``name`` (None when unknown or the schema is unavailable)."""
    if not name:
        return None
    try:
        from .. import schema
    except Exception:  # pragma: no cover - schema module broken
        return None
    try:
        return schema.section(name)
    except Exception:
        return None


def schema_describe(attr) -> str:
    try:
        from .. import schema

        return schema.describe(attr)
    except Exception:
        return getattr(attr, "description", "") or ""
