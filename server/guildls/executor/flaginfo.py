"""Flags of an operation for a "Run with flags…" form, and checking values typed there with
the same checks `guildls run` applies before anything runs (Guild's wording). Pure."""

from __future__ import annotations

from typing import Optional

from .plan import PlanError, _jsonable, build_plan, effective_flags, find_root_operation


def operation_flags(gf, opspec: str, project_dir: Optional[str]) -> list[dict]:
    """[{name, default, type, choices, description, required}] in the operation's order
    (flags from the guild file, then those imported from its script). PlanError for an
    unknown operation."""
    op = find_root_operation(gf, opspec, project_dir)
    defs, _dest, _module, _args, _open = effective_flags(op, project_dir)
    out = []
    for name, d in defs.items():
        a = d.attrs or {}
        choices = a.get("choices")
        if isinstance(choices, list):
            choices = [c.get("value") if isinstance(c, dict) else c for c in choices]
        else:
            choices = None
        out.append({"name": name, "default": _jsonable(a.get("default")),
                    "type": a.get("type") if isinstance(a.get("type"), str) else None,
                    "choices": _jsonable(choices),
                    "description": str(a.get("description") or "").strip(),
                    "required": bool(a.get("required"))})
    return out


def _error(gf, opspec: str, flags: list, project_dir: Optional[str]) -> Optional[str]:
    try:
        build_plan(gf, opspec, flags, project_dir=project_dir)
    except PlanError as e:
        return e.message
    return None


def validate_flags(gf, opspec: str, flags: dict, project_dir: Optional[str]) -> dict:
    """{flag name: message} for values the run would refuse; {} when all are fine. Each value
    is checked on its own (text as typed, decoded with the flag's type, like the command
    line); a problem the operation has whatever the values are is not blamed on a flag."""
    from ..model import flagvals as fv

    baseline = _error(gf, opspec, [], project_dir)
    errors: dict = {}
    for name, val in flags.items():
        text = val if isinstance(val, str) else fv.encode_flag_val(val)
        msg = _error(gf, opspec, [f"{name}={text}"], project_dir)
        if msg is not None and msg != baseline:
            errors[str(name)] = msg
    return errors

