"""The Guild file JSON schema and a small API over it.

`guildfile.schema.json` (next to this module) is the single source of truth for the
attributes of every section of a Guild file: their JSON types, closed value sets,
descriptions (hover text) and the load-time error Guild gives for a value of the wrong
type. This module only reads it; it has no knowledge of Guild files of its own.

Custom keywords used in the schema (see its `$comment`):

- ``x-guild-error``: Guild's load-time error template for a wrong-typed value.
  Placeholders: ``{repr}`` (Python ``repr`` of the value), ``{str}``, ``{name}`` /
  ``{name_repr}`` (the mapping key) and context such as ``{resource}``.
- ``x-guild-accepts``: what Guild accepts at load for that property without the error
  (may be wider than the documented type, e.g. ``steps: {}`` loads).
- ``x-guild-item-error`` / ``x-guild-item-accepts``: the same per list item;
  ``x-guild-value-error`` / ``x-guild-value-accepts``: the same per mapping value.
- ``x-guild-crash``: Guild fails with a Python exception (no message) for values
  outside ``x-guild-accepts``.
- ``x-run-error``, ``x-run-enum``: problems Guild only reports when running.
- ``x-ignored-keys``: keys Guild accepts and ignores, with a reason.

Use :attr:`Attr.is_valid` for "is this the documented type" (a warning when false) and
:meth:`Attr.load_error` for "would Guild refuse to load this" (an error when not None).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from os import path as _path
from typing import Callable, Optional

# jsonschema (and referencing) are imported when a value first needs them: most
# attributes take the plain-Python checks below, and `guildls check` of a small file
# should not pay a third of a second for imports it never uses.

__all__ = ["Attr", "Section", "schema", "schema_text", "section", "sections", "describe", "SCHEMA_PATH"]

SCHEMA_PATH = _path.join(_path.dirname(_path.abspath(__file__)), "guildfile.schema.json")

_DEFS_PREFIX = "#/$defs/"
_SCALAR_TYPES = (str, int, float, bool, type(None))
_MEMO_LIMIT = 8192


# ---------------------------------------------------------------------------
# Raw access


@functools.lru_cache(maxsize=None)
def schema_text() -> str:
    """The schema file text, as shipped (for `guildls schema`)."""
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        return f.read()


@functools.lru_cache(maxsize=None)
def schema() -> dict:
    """The parsed schema (cached; treat as read-only)."""
    return json.loads(schema_text())


def _schema_id() -> str:
    return schema().get("$id", "urn:guildls:guildfile")


@functools.lru_cache(maxsize=None)
def _registry():
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    root = schema()
    return Registry().with_resource(_schema_id(), Resource(contents=root, specification=DRAFT202012))


def _pointer_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _validator_for_pointer(pointer: str):
    """A validator for the subschema at `pointer` (JSON pointer into the schema).

    The subschema is referenced through the registry, so `$ref`s inside it resolve
    against the whole schema.
    """
    import jsonschema

    wrapper = {"$ref": f"{_schema_id()}#{pointer}"}
    return jsonschema.Draft202012Validator(wrapper, registry=_registry())


_PLAIN_VALIDATORS: dict = {}


def _check_plain(subschema: dict, value) -> bool:
    """Validates `value` against a self-contained subschema (no `$ref`).

    Subschemas come from the cached schema, so their identity is a stable cache key.
    """
    entry = _PLAIN_VALIDATORS.get(id(subschema))
    if entry is None or entry[0] is not subschema:
        import jsonschema

        entry = (subschema, jsonschema.Draft202012Validator(subschema))
        _PLAIN_VALIDATORS[id(subschema)] = entry
    return entry[1].is_valid(value)


def _is_json_value(value) -> bool:
    """True when `value` only contains JSON-representable data.

    YAML can produce dates, timestamps, bytes and sets; none of them is a valid Guild
    file value anywhere.
    """
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, _SCALAR_TYPES):
            continue
        if isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            for k, item in v.items():
                if not isinstance(k, _SCALAR_TYPES):
                    return False
                stack.append(item)
        else:
            return False
    return True


# ---------------------------------------------------------------------------
# Attributes and sections


def _json_type_of(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _dedup(items) -> tuple:
    seen = []
    for x in items:
        if x not in seen:
            seen.append(x)
    return tuple(seen)


def _types_of(s: dict) -> Optional[tuple]:
    """JSON types accepted by subschema `s`; None = unknown (any)."""
    if not isinstance(s, dict):
        return None
    if "type" in s:
        t = s["type"]
        return tuple(t) if isinstance(t, list) else (t,)
    if "$ref" in s:
        ref = s["$ref"]
        if ref.startswith(_DEFS_PREFIX):
            target = schema()["$defs"].get(ref[len(_DEFS_PREFIX):], {})
            return _types_of(target)
        return None
    if "const" in s:
        return (_json_type_of(s["const"]),)
    if "enum" in s:
        return _dedup(_json_type_of(v) for v in s["enum"])
    for key in ("anyOf", "oneOf"):
        if key in s:
            out = []
            for branch in s[key]:
                t = _types_of(branch)
                if t is None:
                    return None
                out.extend(t)
            return _dedup(out)
    if "allOf" in s:
        for branch in s["allOf"]:
            t = _types_of(branch)
            if t is not None:
                return t
    return None


def _section_ref_of(s: dict) -> Optional[str]:
    """Name of the first `$defs` section referenced by `s` (breadth first)."""
    queue = [s]
    while queue:
        nxt = []
        for node in queue:
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and ref.startswith(_DEFS_PREFIX):
                    return ref[len(_DEFS_PREFIX):]
                for k, v in node.items():
                    if k.startswith("x-") or k in ("description", "examples", "enum", "const"):
                        continue
                    if isinstance(v, (dict, list)):
                        nxt.append(v)
            elif isinstance(node, list):
                nxt.extend(node)
        queue = nxt
    return None


class _Placeholders(dict):
    def __missing__(self, key):
        return "<" + key + ">"


def _fmt(template: str, value, key=None, context=None) -> str:
    vals = _Placeholders(context or {})
    vals["repr"] = repr(value)
    vals["str"] = str(value)
    if key is not None:
        vals.setdefault("name", str(key))
        vals.setdefault("name_repr", repr(key))
    # Plain replacement: templates contain literal braces only as placeholders.
    out = template
    for name in ("repr", "str", "name", "name_repr", "resource", "op_repr"):
        token = "{" + name + "}"
        if token in out:
            out = out.replace(token, str(vals[name]))
    return out


def _problem(s: dict, kind: str, value, key, context, attr_name: str) -> Optional[str]:
    """Message for a value Guild refuses: its template, or a crash description.

    When both a template and a crash are given, the template is Guild's message for a
    mapping and the crash applies to every other type.
    """
    template = s.get(f"x-guild-{kind}error")
    crash = s.get(f"x-guild-{kind}crash")
    if template and (not crash or isinstance(value, dict)):
        return _fmt(template, value, key=key, context=context)
    if crash:
        return f"Guild cannot load this `{attr_name}` value ({crash})"
    return None


_ANNOTATIONS = {"description", "title", "examples", "$comment", "default"}


def _is_type(value, t: str) -> bool:
    if t == "string":
        return isinstance(value, str)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "null":
        return value is None
    if t == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "array":
        return isinstance(value, list)
    if t == "object":
        return isinstance(value, dict)
    return False


def _exact_classes(types) -> frozenset:
    """The classes whose every value is of one of the JSON ``types`` (a value of another
    class may still be, e.g. an integral float for "integer": ask _is_type)."""
    classes = {"string": (str,), "boolean": (bool,), "null": (type(None),), "integer": (int,),
               "number": (int, float), "array": (list,), "object": (dict,)}
    return frozenset(c for t in types for c in classes.get(t, ()))


def _always_valid(s: dict, leaf) -> frozenset:
    """What `leaf(s, keys)` says of a schema with those constraint keys, and for an `anyOf`
    the union over its branches (valid in one branch is valid); empty for anything else."""
    if not isinstance(s, dict):
        return frozenset()
    keys = {k for k in s if not k.startswith("x-") and k not in _ANNOTATIONS}
    if keys == {"anyOf"} and isinstance(s["anyOf"], list):
        out = frozenset()
        for b in s["anyOf"]:
            out |= _always_valid(b, leaf)
        return out
    return leaf(s, keys)


def _type_classes(s: dict, keys: set) -> frozenset:
    if keys == {"type"} or keys == {"type", "items"}:
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        return _exact_classes(types) & frozenset(_SCALAR_TYPES)
    return frozenset()


def _enum_values(s: dict, keys: set) -> frozenset:
    if keys == {"enum"} and isinstance(s["enum"], list):
        return frozenset(e for e in s["enum"] if e is None or isinstance(e, str))
    return frozenset()


def scalar_ok_classes(s: dict) -> frozenset:
    """The scalar classes whose every value the schema `s` accepts, as far as a plain
    `{"type": ...}` (items apply to lists only) or an `anyOf` of such branches tells;
    empty for anything else (an enum, a pattern, a `$ref`). Agrees with `_fast_check`."""
    return _always_valid(s, _type_classes)


def scalar_ok_values(s: dict) -> frozenset:
    """The text and null members of an `enum` (or of an `anyOf` of such branches) of the
    schema `s`: each is valid. Agrees with `_fast_check`'s enum test."""
    return _always_valid(s, _enum_values)


def _fast_check(s: dict):
    """A plain-Python predicate for the simplest schemas, else None.

    The predicate answers True or False as jsonschema would, or None when it cannot
    tell (then jsonschema decides). Covers `{"type": ...}` with `items`, enums of
    strings and null, and `anyOf` of those (a `$ref` branch answers None), which are
    most attributes and most values written in real files.
    """
    if not isinstance(s, dict):
        return None
    keys = {k for k in s if not k.startswith("x-") and k not in _ANNOTATIONS}
    if keys == {"enum"} and isinstance(s["enum"], list):
        if not all(e is None or isinstance(e, str) for e in s["enum"]):
            return None
        strs = frozenset(e for e in s["enum"] if isinstance(e, str))
        has_null = None in s["enum"]

        def check_enum(value):
            return (value is None and has_null) or (isinstance(value, str) and value in strs)

        return check_enum
    if keys == {"anyOf"} and isinstance(s["anyOf"], list):
        branches = [_fast_check(b) for b in s["anyOf"]]

        def check_any(value):
            unknown = False
            for b in branches:
                r = None if b is None else b(value)
                if r:
                    return True
                if r is None:
                    unknown = True
            return None if unknown else False

        return check_any
    if keys == {"type"} or keys == {"type", "items"}:
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        has_items = "items" in keys
        item_check = _fast_check(s["items"]) if has_items else None

        exact = _exact_classes(types)

        def check(value, types=tuple(types)):
            # values read from YAML have exactly these classes: a set lookup answers
            if value.__class__ not in exact and not any(_is_type(value, t) for t in types):
                return False
            if has_items and isinstance(value, list) and value:
                if item_check is None:
                    return None
                unknown = False
                for v in value:
                    r = item_check(v)
                    if r is False:
                        return False
                    if r is None:
                        unknown = True
                return None if unknown else True
            return True

        return check
    return None


class _Checker:
    """jsonschema-backed validity check with memoization for scalar values."""

    __slots__ = ("_pointer", "_validator", "_memo", "_fast")

    def __init__(self, pointer: str, subschema: Optional[dict] = None):
        self._pointer = pointer
        self._validator = None
        self._memo = {}
        self._fast = _fast_check(subschema) if subschema is not None else None

    def __call__(self, value) -> bool:
        if isinstance(value, _SCALAR_TYPES):
            if self._fast is not None:
                # a type or enum test answers at once: no memo to fill (unique values such
                # as descriptions would only churn it), see _fast_check
                r = self._fast(value)
                if r is not None:
                    return r
            key = (type(value), value)
            try:
                return self._memo[key]
            except KeyError:
                pass
            result = self._check(value)
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = result
            return result
        return self._check(value)

    def _check(self, value) -> bool:
        if not _is_json_value(value):
            return False
        if self._fast is not None:
            r = self._fast(value)
            if r is not None:
                return r
        v = self._validator
        if v is None:
            v = self._validator = _validator_for_pointer(self._pointer)
        return v.is_valid(value)


@dataclass(frozen=True)
class Attr:
    name: str
    description: str
    types: tuple  # JSON types accepted; () = any
    enum: Optional[tuple]
    guild_error: Optional[str]  # x-guild-error template
    subschema: dict  # raw property schema ($refs not inlined)
    section_ref: Optional[str]
    is_valid: Callable[[object], bool]
    section: str = ""  # name of the section the attribute belongs to
    guild_accepts: Optional[dict] = field(default=None, repr=False)
    # the classes of scalar values (str, int, ...) every value of which is valid: such a
    # value needs no call of is_valid (see scalar_ok_classes)
    scalar_ok: frozenset = field(default=frozenset(), repr=False)
    # scalar values (enum members: text or null) that are valid whatever their class says
    scalar_ok_values: frozenset = field(default=frozenset(), repr=False)

    def load_error(self, value, **context) -> Optional[str]:
        """Guild's load-time error for `value`, or None if Guild loads it.

        Checks the value itself (`x-guild-accepts`), then each list item or mapping value
        (`x-guild-item-*`, `x-guild-value-*`). Nested sections are not entered: check them
        through their own `Section`. `context` fills placeholders such as `resource`.
        """
        s = self.subschema
        accepts = s.get("x-guild-accepts")
        if accepts is not None and not _check_plain(accepts, value):
            msg = _problem(s, "", value, None, context, self.name)
            if msg:
                return msg
        if isinstance(value, list):
            item_accepts = s.get("x-guild-item-accepts")
            if item_accepts is not None:
                for item in value:
                    if not _check_plain(item_accepts, item):
                        msg = _problem(s, "item-", item, None, context, self.name)
                        if msg:
                            return msg
        if isinstance(value, dict):
            names = s.get("propertyNames")
            if isinstance(names, dict) and names.get("x-guild-error"):
                for k in value:
                    if not _check_plain({"type": names.get("type", "string")}, k):
                        return _fmt(names["x-guild-error"], k, context=context)
            value_accepts = s.get("x-guild-value-accepts")
            if value_accepts is not None:
                for k, item in value.items():
                    if isinstance(k, str) and k.startswith("$"):
                        continue
                    if not _check_plain(value_accepts, item):
                        msg = _problem(s, "value-", item, k, context, self.name)
                        if msg:
                            return msg
        return None


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    description: str
    attrs: dict
    ignored: dict
    required: tuple = ()
    guild_error: Optional[str] = None  # section-level x-guild-error (e.g. choice without value)

    def get(self, key) -> Optional[Attr]:
        return self.attrs.get(key) if isinstance(key, str) else None

    @functools.cached_property
    def names(self) -> tuple:
        """The attribute names, once (the candidates of "did you mean")."""
        return tuple(self.attrs)


def _make_attr(section_name: str, name: str, prop: dict) -> Attr:
    types = _types_of(prop)
    branch_enums = [v for b in prop.get("anyOf", ()) if isinstance(b, dict) for v in b.get("enum", ())]
    if "enum" in prop:
        enum = tuple(prop["enum"])
    elif "x-run-enum" in prop:
        enum = tuple(prop["x-run-enum"])
    elif branch_enums:
        # e.g. flags-dest: the named values of an open set (`args`, `globals`, ...)
        enum = tuple(dict.fromkeys(branch_enums))
    else:
        enum = None
    pointer = "/$defs/" + _pointer_token(section_name) + "/properties/" + _pointer_token(name)
    return Attr(
        name=name,
        description=prop.get("description", ""),
        types=types or (),
        enum=enum,
        guild_error=prop.get("x-guild-error"),
        subschema=prop,
        section_ref=_section_ref_of(prop),
        is_valid=_Checker(pointer, prop),
        section=section_name,
        guild_accepts=prop.get("x-guild-accepts"),
        scalar_ok=scalar_ok_classes(prop),
        scalar_ok_values=scalar_ok_values(prop),
    )


def _ignored(raw) -> dict:
    out = {}
    for item in raw or []:
        if isinstance(item, dict):
            out.update(item)
        elif isinstance(item, str):
            out[item] = ""
    return out


@functools.lru_cache(maxsize=None)
def section(name: str) -> Section:
    """The `$defs` section `name` (e.g. 'operation', 'flag'); KeyError if unknown."""
    defs = schema()["$defs"]
    if name not in defs:
        raise KeyError(name)
    d = defs[name]
    attrs = {k: _make_attr(name, k, v) for k, v in d.get("properties", {}).items()}
    return Section(
        name=name,
        title=d.get("title", name),
        description=d.get("description", ""),
        attrs=attrs,
        ignored=_ignored(d.get("x-ignored-keys")),
        required=tuple(d.get("required", ())),
        guild_error=d.get("x-guild-error"),
    )


def sections() -> tuple:
    """Names of all sections, in schema order."""
    return tuple(schema()["$defs"])


def describe(attr: Attr) -> str:
    """Markdown hover text: bold name, accepted types or values, then the description."""
    if attr.enum:
        kind = " | ".join(f"`{json.dumps(v)}`" if not isinstance(v, str) else f"`{v}`" for v in attr.enum)
    elif attr.types:
        kind = " | ".join(f"`{t}`" for t in attr.types)
    else:
        kind = "any"
    text = f"**{attr.name}** ({kind})\n\n{attr.description}".rstrip()
    if attr.section_ref:
        title = schema()["$defs"].get(attr.section_ref, {}).get("title", attr.section_ref)
        text += f"\n\nValue: {title.lower() if title else attr.section_ref} (see `{attr.section_ref}`)."
    return text
