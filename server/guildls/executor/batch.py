"""Batch planning: which runs start a batch, and the trials it runs. Pure (no processes).

Guild 0.9.0's rules (observed, see README.md "Batches"; source: run_impl.py, batch_util.py,
batch_main.py, plugins/random_main.py, plugins/skopt_util.py, flag_util.py):

- An operation becomes a batch when `--optimizer NAME` / `-O` is given, else when any flag value
  (given or the flag's default) is a search function (`uniform[0:1]`, `loguniform[a:b]`,
  `[a:b]`) -> the `random` optimizer, else when a value is a list or a batch file (`@f.csv`)
  is given -> the grid batch `+`.
- Sequence functions are expanded when the value is decoded: `range[a:b:step]` (inclusive
  end), `linspace[a:b:count=5]`, `logspace[a:b:count=5:base=10]` -> lists (so a grid).
- Grid (`+`): the cartesian product over flag names in sorted order (first name varies
  slowest). With `--max-trials N` < the number of combinations, N are sampled with Python's
  `random.seed(random_seed); random.sample(range(total), N)` and kept in grid order.
- Batch files: `.csv` (header row of names, values decoded as flag values), `.json`,
  `.yml`/`.yaml` (a list of mappings or one mapping); several files concatenate. Each trial is
  the op's flags, then the file's row, then the command line's assignments, each expanded as
  a grid. One trial in total is not a batch: its values become ordinary flag values.
- Random (`random`): `--max-trials` (default 20) trials; lists are categorical choices,
  `uniform[a:b]` (ints -> integers in [a, b], else reals), `loguniform[a:b]` (reals, a > 0);
  an optional third argument is the first trial's value.

Random values: Guild draws them with scikit-optimize (numpy); we draw from the same
distributions with Python's `random.Random(random_seed)`: the same seed gives the same trials
in guildls, not the same numbers as Guild.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
import random
from dataclasses import dataclass, field
from typing import Any, Optional

import yaml

from ..model import flagvals as fv
from ..model.nodes import safe_load
from ..model.batchvals import (DEFAULT_MAX_TRIALS, DEFAULT_OPTIMIZER, MODEL_BASED,  # noqa: F401
                               OPTIMIZERS, SEARCH_FUNCTIONS, SEQUENCE_FUNCTIONS, BatchError,
                               _search_dim, decode_function, expand_sequence, function_problem)


@dataclass
class Batch:
    optimizer: str  # '+' (grid) | 'random'
    trials: list  # [{flag: value}] the batch-varying values of each trial, in run order
    max_trials: Optional[int] = None
    random_seed: Optional[int] = None
    batch_files: list = field(default_factory=list)
    varying: dict = field(default_factory=dict)  # flag -> value as written (list / function)
    fail_on_trial_error: bool = False

    @property
    def opspec(self) -> str:
        return self.optimizer

    def describe(self) -> str:
        """`4 grid trials of lr in [0.1, 0.2] x n in [1, 2]`, `20 random trials of lr in
        loguniform[1e-05:0.1]`, `3 trials from @trials.csv`."""
        n = len(self.trials)
        what = f"{n} {'random ' if self.optimizer == 'random' else ''}trial{'s' if n != 1 else ''}"
        parts = []
        for name, val in sorted(self.varying.items()):
            shown = val if isinstance(val, str) else "[" + ", ".join(fv.format_flag(v) for v in val) + "]"
            parts.append(f"{name} in {shown}")
        if self.batch_files:
            parts.append("from " + ", ".join("@" + f for f in self.batch_files))
        if self.optimizer == "+" and self.max_trials is not None and self.varying \
                and n < _grid_size(self.varying):
            what += f" (sampled from {_grid_size(self.varying)})"
        return what + (" of " + " x ".join(parts) if parts else "")


def _grid_size(varying: dict) -> int:
    size = 1
    for v in varying.values():
        size *= len(v) if isinstance(v, list) else 1
    return size


# ---------------------------------------------------------------------------------------
# Batch files


def read_batch_files(files: list, base_dir: str) -> list:
    """Trials (list of {flag: value}) from `@file` batch files, Guild's rules and messages."""
    trials: list = []
    for f in files:
        path = os.path.join(base_dir, os.path.expanduser(f))
        if not os.path.exists(path):
            raise BatchError(f"batch file {path} does not exist")
        ext = os.path.splitext(path)[1].lower()
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read(10 * 1024 * 1024 + 1)
        except (OSError, UnicodeDecodeError) as e:
            raise BatchError(f"cannot read batch file {path}: {e}")
        if len(text) > 10 * 1024 * 1024:
            raise BatchError(f"batch file {path} is larger than 10 MB")
        if ext in (".json", ".yml", ".yaml"):
            try:
                data = safe_load(text)  # Guild's resolver rules
            except yaml.YAMLError as e:
                raise BatchError(f"{path}: {e}")
            if not isinstance(data, list):
                if not isinstance(data, dict):
                    raise BatchError(f"{path}: invalid data type for trials: expected list "
                                     f"or dict, got {type(data).__name__}")
                data = [data]
            for item in data:
                if not isinstance(item, dict):
                    raise BatchError(f"{path}: invalid data type for trial {item!r}: "
                                     "expected dict")
            trials.extend({str(k): v for k, v in item.items()} for item in data)
        elif ext in ("", ".csv"):
            rows = list(csv.reader(io.StringIO(text)))
            if rows:
                names = rows[0]
                trials.extend(dict(zip(names, (fv.decode_flag_val(s) for s in row)))
                              for row in rows[1:])
        else:
            raise BatchError(f"{path}: unsupported extension")
    return trials


# ---------------------------------------------------------------------------------------
# Which batch, which trials


def is_batch_value(val: Any) -> bool:
    return isinstance(val, list) or decode_function(val) is not None


def optimizer_for(vals: dict, file_trials: list, optimizer: Optional[str],
                  optimize: bool) -> Optional[str]:
    """Guild's batch op for a run: '+', 'random', a model-based name, or None (no batch)."""
    if optimizer:
        canon = OPTIMIZERS.get(str(optimizer))
        if canon is None:  # Guild's wording; `grid` is not a Guild optimizer name
            hint = " (Guild's grid batch is '+': --optimizer +)" if optimizer == "grid" else ""
            raise BatchError(f"operation '{optimizer}' is not defined for this project{hint}\n"
                             "Try 'guild operations' for a list of available operations.")
        return canon
    if optimize:
        return DEFAULT_OPTIMIZER
    has_list = False
    for val in vals.values():
        if decode_function(val) is not None:
            return "random"
        has_list = has_list or isinstance(val, list)
    if has_list or len(file_trials) > 1:
        return "+"
    return None


def grid_trials(vals: dict, rng: random.Random) -> list:
    """Cartesian product over sorted names; a search function in a grid draws per trial."""
    lists = []
    for name, val in sorted(vals.items()):
        items = val if isinstance(val, list) else [val]
        lists.append([(name, x) for x in items])
    trials = [dict(t) for t in itertools.product(*lists)]
    for t in trials:
        for name, x in t.items():
            if decode_function(x) is not None:
                t[name] = _draw(_search_dim(*decode_function(x), name, x), rng)
    return trials


def sample_trials(trials: list, count: Optional[int], seed: Optional[int]) -> list:
    """Guild's batch_util.sample_trials (Python's random, so the same trials as Guild)."""
    count = count or DEFAULT_MAX_TRIALS
    if len(trials) <= count:
        return trials
    random.seed(seed)
    picked = random.sample(range(len(trials)), count)
    return [trials[i] for i in sorted(picked)]


def _draw(dim: tuple, rng: random.Random) -> Any:
    kind, low, high, _ = dim
    if kind == "int":
        return rng.randint(low, high)
    if kind == "log":
        return 10 ** rng.uniform(math.log10(low), math.log10(high))
    return rng.uniform(low, high)


def random_trials(vals: dict, count: int, seed: Optional[int]) -> list:
    dims = {}
    for name, val in sorted(vals.items()):
        if isinstance(val, list):
            if not val:
                raise BatchError(f"invalid value for flag {name}: empty list of choices")
            dims[name] = ("choice", val, None, None)
        else:
            fn = decode_function(val)
            if fn is not None:
                dims[name] = _search_dim(fn[0], fn[1], name, val)
    if not dims:
        raise BatchError("flags for batch (" + ", ".join(fv.flag_assigns(vals)) +
                         ") do not contain any search dimensions\n"
                         "Try specifying a range for one or more flags as NAME=[MIN:MAX].")
    # plain values beside the dimensions go to every trial (Guild: `opt=adam` with
    # `lr=loguniform[...]` runs each trial with opt=adam)
    fixed = {n: v for n, v in sorted(vals.items()) if n not in dims}
    rng = random.Random(seed)
    trials = []
    for i in range(count):
        t = dict(fixed)
        for name, dim in dims.items():
            if dim[0] == "choice":
                t[name] = rng.choice(dim[1])
            elif i == 0 and dim[3] is not None:
                t[name] = dim[3]
            else:
                t[name] = _draw(dim, rng)
        trials.append(t)
    return trials


def plan_batch(vals: dict, *, file_trials: list = (), user_vals: Optional[dict] = None,
               optimizer: Optional[str] = None, optimize: bool = False,
               max_trials: Any = None, random_seed: Any = None, batch_files: list = (),
               fail_on_trial_error: bool = False, new_seed=None) -> Optional[Batch]:
    """The batch for a run whose flag values (defaults filled, user values applied, sequence
    functions expanded) are `vals`; None when Guild runs it as one ordinary run.

    `new_seed()` supplies a seed when none is given (Guild records one on every batch)."""
    file_trials = list(file_trials or [])
    kind = optimizer_for(vals, file_trials, optimizer, optimize)
    if kind is None:
        return None
    if kind in MODEL_BASED:
        raise BatchError(f"the {kind} optimizer (Bayesian optimization with scikit-optimize) "
                         "is not supported by guildls' bundled executor - use "
                         "--optimizer random, or run this with Guild")
    try:
        max_n = None if max_trials in (None, "", 0) else int(max_trials)
    except (TypeError, ValueError):
        raise BatchError(f"invalid value for --max-trials: {max_trials!r} is not an integer")
    if max_n is not None and max_n < 0:
        raise BatchError(f"invalid value for --max-trials: {max_n} is less than 0")
    try:
        seed = None if random_seed in (None, "") else int(random_seed)
    except (TypeError, ValueError):
        raise BatchError(f"invalid value for --random-seed: {random_seed!r} is not an integer")
    if seed is None:
        seed = new_seed() if new_seed else random.SystemRandom().randint(0, 2 ** 32 - 1)
    for name, val in vals.items():
        if isinstance(val, list) and not val:
            raise BatchError(f"invalid value for flag {name}: an empty list has no trials")
    varying = {n: v for n, v in vals.items() if is_batch_value(v)}
    if kind == "random":
        trials = random_trials(vals, max_n or DEFAULT_MAX_TRIALS, seed)
    else:
        rng = random.Random(seed)
        if file_trials:
            trials = []
            for row in file_trials:
                merged = dict(vals)
                merged.update(row)
                merged.update(user_vals or {})
                trials.extend(grid_trials(
                    {n: expand_sequence(v, n) for n, v in merged.items()}, rng))
        else:
            trials = grid_trials(vals, rng)
        if max_n is not None:
            trials = sample_trials(trials, max_n, seed)
    return Batch(optimizer=kind, trials=trials, max_trials=max_n, random_seed=seed,
                 batch_files=list(batch_files), varying=varying,
                 fail_on_trial_error=bool(fail_on_trial_error))
