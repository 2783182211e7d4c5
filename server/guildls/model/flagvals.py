"""Flag value encoding, decoding, references and checks, the way Guild 0.9 does them.

Ported behaviour (not code) from guild/flag_util.py, guild/op_util.py, guild/op_cmd.py and
guild/util.py so that plans, INFO lines, labels and arguments match what real Guild prints.
Pure functions; PyYAML only.
"""

from __future__ import annotations

import pprint
import re
from typing import Any, Iterable

import yaml

from .nodes import safe_dump, safe_load

REF_P = re.compile(r"(\\?\${.+?})")
NAMED_FUNCTION_P = re.compile(r"([a-zA-Z0-9_\-\.]+)\[(.*)\]")


class UndefinedReferenceError(Exception):
    def __init__(self, reference: str):
        super().__init__(reference)
        self.reference = reference


class ReferenceCycleError(Exception):
    def __init__(self, chain: list):
        super().__init__(chain)
        self.chain = chain


class FlagValueError(Exception):
    """A flag value check failed; str() is Guild's message (without the `guild: ` prefix)."""


# ---------------------------------------------------------------------------
# YAML helpers


def encode_yaml(val: Any, default_flow_style: bool = False) -> str:
    cls = val.__class__
    if cls is str or cls is int or cls is float:
        # a YAML dump per flag value of every step is costly: scalars once per text
        # (repr keeps -0.0 apart from 0.0 and 1 from '1')
        key = (cls, repr(val))
        encoded = _ENCODED.get(key)
        if encoded is None:
            encoded = _encode_yaml(val, default_flow_style)
            if len(_ENCODED) >= 10_000:
                _ENCODED.clear()
            _ENCODED[key] = encoded
        return encoded
    return _encode_yaml(val, default_flow_style)


_ENCODED: dict = {}


def _encode_yaml(val: Any, default_flow_style: bool) -> str:
    encoded = safe_dump(val, default_flow_style=default_flow_style, indent=2, width=1 << 30)
    stripped = encoded.strip()
    if stripped.endswith("\n..."):
        stripped = stripped[:-4]
    return stripped


_YAML_WORDS = {
    "yes": True, "Yes": True, "YES": True, "no": False, "No": False, "NO": False,
    "true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False,
    "on": True, "On": True, "ON": True, "off": False, "Off": False, "OFF": False,
    "~": None, "null": None, "Null": None, "NULL": None,
}
# Plain words YAML gives back unchanged as strings (no indicators, no numbers, no dates).
_PLAIN_TEXT = re.compile(r"^[A-Za-z_/$][^:#\[\]{},&*!|>'\"%@`]*$")


def decode_yaml(s: str) -> Any:
    # fast paths for the common cases, identical to what yaml.safe_load returns
    if s in _YAML_WORDS:
        return _YAML_WORDS[s]
    if (_PLAIN_TEXT.match(s) or s[:2] == "${") and s == s.strip() and ": " not in s and " #" not in s \
            and not s.endswith(":"):
        return s
    try:
        return safe_load(s)
    except yaml.YAMLError as e:  # scanner / parser errors
        raise ValueError(str(e)) from e


# ---------------------------------------------------------------------------
# Encoding (flag_util.encode_flag_val / format_flag / flag_assigns)


def encode_flag_val(val: Any) -> str:
    if val is True:
        return "yes"
    if val is False:
        return "no"
    if val is None:
        return "null"
    if isinstance(val, list):
        return "[" + ", ".join(_encode_list_item(x) for x in val) + "]"
    if isinstance(val, dict):
        body = ", ".join(
            f"{encode_flag_val(k)}: {encode_flag_val(v)}" for k, v in sorted(val.items())
        )
        return "{" + body + "}"
    return encode_yaml(val, default_flow_style=True)


def _encode_list_item(val: Any) -> str:
    encoded = encode_flag_val(val)
    if isinstance(val, str) and "," in encoded:
        return repr(encoded)
    return encoded


def format_flag(val: Any, truncate_floats: bool = False) -> str:
    encoded = encode_flag_val(val)
    if truncate_floats and isinstance(val, float):
        encoded = "".join(
            p if p[:1] != "." or len(p) <= 5 else p[:6] for p in re.split(r"(\.[0-9]+)", encoded)
        )
    if isinstance(val, str) and encoded[:1] not in ("'", '"') and " " in encoded:
        return repr(encoded)
    return encoded


def flag_assign(name: str, val: Any, truncate_floats: bool = False) -> str:
    return f"{name}={format_flag(val, truncate_floats)}"


def flag_assigns(flags: dict, truncate_floats: bool = False) -> list[str]:
    return [flag_assign(n, v, truncate_floats) for n, v in sorted(flags.items())]


def default_label(flags: dict) -> str:
    non_null = {n: v for n, v in flags.items() if v is not None}
    return " ".join(flag_assigns(non_null, truncate_floats=True))


def render_label(template: str | None, flags: dict) -> str:
    """Guild's run label: the template with ${flag} (and ${default_label}) or the default."""
    dl = default_label(flags)
    if template is None:
        return dl

    def repl(m):
        ref = m.group(1)
        if ref.startswith("\\"):
            return ref[1:]
        body = ref[2:-1]
        name, _, filt = body.partition("|")
        if name == "default_label":
            return dl
        val = flags.get(name)
        if val is None:
            if filt.startswith("default:"):
                return filt[len("default:"):]
            return ""
        return format_flag(val)

    return REF_P.sub(repl, template)


# ---------------------------------------------------------------------------
# Decoding (flag_util.decode_flag_val)


def decode_flag_val(s: str, flag_type: str | None = None) -> Any:
    if not isinstance(s, str):
        return s
    decoded = _decode_flag_val(s, flag_type)
    if isinstance(decoded, (int, float)) and not isinstance(decoded, bool):
        if "!!" not in s and any(c in ("_", ":") for c in s):
            return s
    return decoded


def _decode_flag_val(s: str, flag_type: str | None) -> Any:
    if s == "":
        return s
    decoders = []
    if flag_type in ("string", "path", "existing-path"):
        decoders.append(_string_type)
    elif flag_type == "int":
        decoders.append(int)
    elif flag_type == "float":
        decoders.append(float)
    elif flag_type == "number":
        decoders += [int, float]
    elif flag_type == "boolean":
        decoders.append(_boolean_type)
    decoders += [int, float, _flag_function, _concatenated_list, decode_yaml]
    for f in decoders:
        try:
            return f(s)
        except (ValueError, TypeError):
            pass
    return s


def _string_type(s: str) -> str:
    if s[:1] in ("[", "'", '"', "{"):
        raise ValueError(s)
    return str(s)


def _boolean_type(s: str) -> Any:
    val = decode_yaml(s)
    if isinstance(val, (bool, int, float)):
        return bool(val)
    return val


_LIST_CONCAT_P = re.compile(r"^(\[.*\])\s*\*\s*(\d+)$")


def _concatenated_list(s: str) -> Any:
    """`[1]*3` -> [1, 1, 1] (Guild's list concatenation syntax)."""
    m = _LIST_CONCAT_P.match(s.strip())
    if not m:
        raise ValueError(s)
    items = _decode_flag_val(m.group(1), None)
    if isinstance(items, list):
        return items * int(m.group(2))
    return s


def _flag_function(s: str) -> str:
    """Anonymous/named flag functions (`[1:2]`, `uniform[0:1]`) stay strings."""
    if is_flag_function(s):
        return s
    raise ValueError(s)


def is_flag_function(val: Any) -> bool:
    if not isinstance(val, str):
        return False
    if NAMED_FUNCTION_P.match(val):
        return True
    if val[:1] == "[" and val[-1:] == "]" and ":" in val:
        try:
            l = safe_load(val)
        except Exception:
            return True
        return isinstance(l, list) and len(l) == 1 and isinstance(l[0], (str, int))
    return False


def parse_assign(arg: str) -> tuple[str, Any]:
    """`NAME=VAL` -> (name, decoded value). Raises ValueError for a word without '='."""
    name, sep, val = arg.partition("=")
    if not sep or not name:
        raise ValueError(arg)
    return name, decode_flag_val(val)


# ---------------------------------------------------------------------------
# References (util.resolve_refs)


def resolve_refs(val: Any, kv: dict, undefined: Any = UndefinedReferenceError) -> Any:
    return _resolve_refs(val, kv, undefined, [])


def _resolve_refs(val, kv, undefined, stack):
    if not isinstance(val, str):
        return val
    parts = [p for p in REF_P.split(val) if p != ""]
    resolved = []
    for part in parts:
        if part.startswith("${") and part.endswith("}"):
            ref = part[2:-1]
            if ref in stack:
                raise ReferenceCycleError(stack + [ref])
            stack.append(ref)
            if ref in kv:
                ref_val = kv[ref]
            elif undefined is UndefinedReferenceError:
                raise UndefinedReferenceError(ref)
            else:
                ref_val = undefined
            resolved.append(_resolve_refs(ref_val, kv, undefined, stack))
            stack.pop()
        elif part.startswith("\\${") and part.endswith("}"):
            resolved.append(part[1:])
        else:
            resolved.append(part)
    if len(resolved) == 1:
        return resolved[0]
    return "".join(p if isinstance(p, str) else encode_yaml(p) for p in resolved)


def refs_in(val: Any) -> list[str]:
    if not isinstance(val, str):
        return []
    return [p[2:-1] for p in REF_P.findall(val) if p.startswith("${")]


# ---------------------------------------------------------------------------
# Argument / env encoding (op_cmd)


def encode_arg(val: Any) -> str:
    """argparse-style encoding used for `--name value`, env values and ${flag} in exec/main."""
    if val is True:
        return "1"
    if val is False or val is None:
        return ""
    if isinstance(val, str):
        return val
    if isinstance(val, list):
        return " ".join(_encode_split_item(x) for x in val)
    return pprint.pformat(val)


def _encode_split_item(x):
    import shlex

    return shlex.quote(encode_yaml(x, default_flow_style=True))


def env_name_for_flag(name: str) -> str:
    return "FLAG_" + re.sub(r"[^A-Za-z0-9_]", "_", name).upper()


# ---------------------------------------------------------------------------
# Coercion and checks (op_util.flag_vals_for_opdef)


def _attr(flag: Any, name: str, default: Any = None) -> Any:
    if isinstance(flag, dict):
        return flag.get(name, flag.get(name.replace("_", "-"), default))
    return getattr(flag, name, default)


def coerce_flag_value(val: Any, flag: Any) -> Any:
    ftype = _attr(flag, "type")
    if val is None or not ftype or ftype == "auto" or is_flag_function(val):
        return val
    if isinstance(val, list):
        return [coerce_flag_value(x, flag) for x in val]
    split = _attr(flag, "arg_split")
    if split is not None and split is not False and isinstance(val, str):
        parts = split_flag_val(val, split)
        coerced = [coerce_flag_value(decode_flag_val(p), dict(_flag_dict(flag), **{"arg-split": None}))
                   for p in parts]
        return " ".join(encode_flag_val(c) for c in coerced) if split in (True, "yes", "shlex") \
            else str(split).join(encode_flag_val(c) for c in coerced)
    msg = f"invalid value for type '{ftype}'"
    if ftype == "string":
        return str(val)
    if ftype == "int":
        if isinstance(val, float):
            raise ValueError(msg)
        try:
            return int(val)
        except (ValueError, TypeError):
            raise ValueError(msg)
    if ftype == "float":
        try:
            return float(val)
        except (ValueError, TypeError):
            raise ValueError(msg)
    if ftype == "boolean":
        return bool(val)
    if ftype == "number":
        if isinstance(val, (int, float)):
            return val
        for f in (int, float):
            try:
                return f(val)
            except (ValueError, TypeError):
                pass
        raise ValueError(msg)
    return val  # path, existing-path, unknown types: not coerced here


def split_flag_val(val: str, split: Any) -> list:
    import shlex

    if split in (True, "yes", "shlex"):
        return shlex.split(val)
    return [p for p in val.split(str(split)) if p]


def _flag_dict(flag: Any) -> dict:
    return dict(flag) if isinstance(flag, dict) else dict(getattr(flag, "attrs", {}) or {})


def check_flag_value(val: Any, flag: Any, name: str) -> None:
    split = _attr(flag, "arg_split")
    if split is not None and split is not False and isinstance(val, str):
        sub = dict(_flag_dict(flag), **{"arg-split": None})
        for part in split_flag_val(val, split):
            check_flag_value(decode_flag_val(part), sub, name)
        return
    if isinstance(val, list):
        for x in val:
            check_flag_value(x, flag, name)
        return
    if is_flag_function(val):
        return
    choices = _attr(flag, "choices")
    if val and choices and not _attr(flag, "allow_other"):
        ok = False
        for c in choices:
            cval, calias = _choice_value(c)
            if (calias is not None and val == calias) or cval == val:
                ok = True
                break
        if not ok:
            lines = [f"Unsupported value for '{name}' - supported values are:"]
            for c in choices:
                cval, _ = _choice_value(c)
                lines.append(f"  {encode_flag_val(cval)}")
            lines.append("Run the command again using one of these options.")
            raise FlagValueError("\n".join(lines))
    if val is None:
        return
    fmin, fmax = _attr(flag, "min"), _attr(flag, "max")
    try:
        if fmin is not None and val < fmin:
            raise FlagValueError(
                f"invalid value {val} for {name}: out of range (less than min {fmin})"
            )
        if fmax is not None and val > fmax:
            raise FlagValueError(
                f"invalid value {val} for {name}: out of range (greater than max {fmax})"
            )
    except TypeError:
        pass


def value_problem(text: str, flag: Any, name: str) -> str | None:
    """What Guild says when a step passes ``name=text`` to a flag (None when accepted).

    The value crosses the step boundary as text and is decoded with the flag's type, then
    coerced and checked (type, choices, min/max), as the step's own `guild run` would.
    The choices message is folded onto one line.
    """
    val = decode_flag_val(text, _attr(flag, "type"))
    try:
        val = coerce_flag_value(val, flag)
    except (ValueError, TypeError) as e:
        return f"invalid value {text} for {name}: {e}"
    try:
        check_flag_value(val, flag, name)
    except FlagValueError as e:
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
        if lines and lines[0].startswith("Unsupported value for"):
            return lines[0] + " " + ", ".join(ln for ln in lines[1:] if not ln.startswith("Run the command"))
        return " ".join(lines)
    return None


def _choice_value(c: Any) -> tuple[Any, Any]:
    if isinstance(c, dict):
        return c.get("value"), c.get("alias")
    val = getattr(c, "value", c)
    return val, getattr(c, "alias", None)


def choice_flags(flag: Any, val: Any) -> dict:
    for c in _attr(flag, "choices") or []:
        cval, calias = _choice_value(c)
        if (calias if calias is not None else cval) == val:
            flags = c.get("flags") if isinstance(c, dict) else getattr(c, "flags", None)
            return dict(flags or {})
    return {}


def choice_value_for_alias(flag: Any, val: Any) -> Any:
    for c in _attr(flag, "choices") or []:
        cval, calias = _choice_value(c)
        if calias is not None and calias == val:
            return cval
    return val


def iter_sorted(d: dict) -> Iterable[tuple[str, Any]]:
    return sorted(d.items())
