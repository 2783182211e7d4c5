"""Batch values of Guild 0.9.0, pure: flag functions (`uniform[0:1]`, `range[1:5]`...), their
expansion and Guild's messages. Shared by the executor (executor/batch.py) and the
diagnostics (analysis/semantics.py)."""

from __future__ import annotations

import math
import re
from typing import Any, Optional

from . import flagvals as fv

DEFAULT_MAX_TRIALS = 20  # random optimizer (plugins/random_main.py)
SEQUENCE_FUNCTIONS = ("range", "linspace", "logspace")
SEARCH_FUNCTIONS = ("uniform", "loguniform")
# --optimizer names Guild resolves (plugins/skopt.py resolve_model_op, the builtin `+`)
OPTIMIZERS = {
    "+": "+",
    "random": "random", "skopt:random": "random",
    "gp": "gp", "skopt:gp": "gp", "bayesian": "gp", "gaussian": "gp",
    "forest": "forest", "skopt:forest": "forest",
    "gbrt": "gbrt", "skopt:gbrt": "gbrt",
}
MODEL_BASED = ("gp", "forest", "gbrt")
DEFAULT_OPTIMIZER = "gp"  # Guild's -O/--optimize without an op `optimizers:` default

_NAMED_FUNCTION_P = re.compile(r"([a-zA-Z0-9_\-\.]+)\[(.*)\]")


class BatchError(Exception):
    """A batch cannot be planned; the message is Guild's wording where Guild has one."""


# ---------------------------------------------------------------------------------------
# Flag functions


def decode_function(val: Any) -> Optional[tuple]:
    """`uniform[0:1]` -> ('uniform', (0, 1)); `[1:2]` -> (None, (1, 2)); else None."""
    if not fv.is_flag_function(val):
        return None
    m = _NAMED_FUNCTION_P.match(val)
    if m:
        name, raw = m.group(1), m.group(2).strip()
    else:
        name, raw = None, val[1:-1]
    args = tuple(fv.decode_flag_val(a.strip()) for a in raw.split(":")) if raw else ()
    return name, args


def expand_sequence(val: Any, flag_name: str = "") -> Any:
    """Guild's decode-time expansion of `range[...]`, `linspace[...]`, `logspace[...]` to a
    list; other values unchanged. Raises BatchError for bad arguments."""
    fn = decode_function(val)
    if fn is None or fn[0] not in SEQUENCE_FUNCTIONS:
        return val
    name, args = fn
    try:
        if name == "range":
            return _range(*args)
        if name == "linspace":
            return _linspace(*args)
        return _logspace(*args)
    except TypeError as e:
        raise BatchError(f"invalid function args in '{flag_name}={val}': {e}")


def _need(*args):
    for a in args:
        if a is None:
            raise TypeError(f"function requires at least {len(args)} arg(s)")


def _numeric(*args):
    for a in args:
        if not isinstance(a, (int, float)) or isinstance(a, bool):
            raise TypeError(f"invalid arg {a!r}: expected a number")


def _seq_val(x):
    if isinstance(x, float) and x > 1e-8:
        return round(x, 8)
    return x


def _range(start=None, end=None, step=1, *_rest):
    _need(start)
    _numeric(start, step)
    if end is None:  # numpy arange(start): 0 .. start-1
        start, end = 0, start
    else:
        _numeric(end)
        end = end + min(step, 1)
    if step == 0:
        raise TypeError("step must not be zero")
    n = max(0, math.ceil((end - start) / step))
    floats = any(isinstance(a, float) for a in (start, end, step))
    out = []
    for i in range(n):
        v = start + i * step
        out.append(_seq_val(float(v) if floats else v))
    return out


def _linspace_vals(start, end, count):
    count = int(count)
    if count <= 0:
        return []
    if count == 1:
        return [float(start)]
    step = (end - start) / (count - 1)
    vals = [start + i * step for i in range(count)]
    vals[-1] = float(end)
    return [float(v) for v in vals]


def _linspace(start=None, end=None, count=5, *_rest):
    _need(start, end)
    _numeric(start, end, count)
    return [_seq_val(v) for v in _linspace_vals(start, end, count)]


def _logspace(start=None, end=None, count=5, base=10, *_rest):
    _need(start, end)
    _numeric(start, end, count, base)
    return [_seq_val(float(base) ** v) for v in _linspace_vals(start, end, count)]


def _search_dim(name: Optional[str], args: tuple, flag_name: str, val: str) -> tuple:
    """(kind, low, high, initial) for `uniform`/`loguniform`/anonymous; Guild's messages."""
    fname = name or "uniform"
    if fname not in SEARCH_FUNCTIONS:
        raise BatchError(f"unknown function '{fname}' used for flag {flag_name}")
    if len(args) not in (2, 3):
        raise BatchError(f"{fname} requires 2 or 3 args, got {args!r} for flag {flag_name}")
    low, high = args[0], args[1]
    initial = args[2] if len(args) == 3 else None
    for a in (low, high):
        if not isinstance(a, (int, float)) or isinstance(a, bool):
            raise BatchError(f"invalid function args in '{flag_name}={val}': "
                             f"expected numbers, got {a!r}")
    if low >= high:
        raise BatchError(f"invalid function args in '{flag_name}={val}': the lower bound "
                         f"{low} has to be less than the upper bound {high}")
    if fname == "loguniform":
        if low <= 0:
            raise BatchError(f"invalid function args in '{flag_name}={val}': the lower bound "
                             f"{low} must be greater than 0 for loguniform")
        return "log", float(low), float(high), initial
    if isinstance(low, int) and isinstance(high, int):
        return "int", low, high, initial
    return "real", float(low), float(high), initial


def function_problem(val: Any, flag_name: str) -> Optional[str]:
    """The error Guild gives for a bad flag function value, or None (for diagnostics)."""
    fn = decode_function(val)
    if fn is None:
        return None
    try:
        if fn[0] in SEQUENCE_FUNCTIONS:
            expand_sequence(val, flag_name)
        else:
            _search_dim(fn[0], fn[1], flag_name, val)
    except BatchError as e:
        return str(e)
    return None
