"""Plan: (Guildfile, operation, user flag assignments) -> a tree of PlanSteps. Pure.

Flags are built the way Guild's steps_main + the step's own `guild run` build them
(guildfile-spec.md 11.4, observed in guild-workflow-observed.md):

1. the step's assignments: the `flags:` mapping if present, which *replaces* the `NAME=VAL`
   words of `run` (C07); values YAML-decoded;
2. parent flags named `<resolved opspec>:<flag>` or `<step name>:<flag>` override them
   (the opspec prefix wins when both exist);
3. `${name}` in every value is resolved against the *parent's* flag values only;
4. null values are dropped (the target's default applies); parent flags are never passed on
   implicitly (C10);
5. the values cross the process boundary as text (`name=<formatted>`) and are re-decoded with
   the target flag's type, as the child `guild run` does (C07 `name: 007` -> `'7'`, C22);
6. the target's defaults fill the rest, values are coerced/checked (type, choices, min/max,
   required) with Guild's messages, unknown flags refused unless `force-flags` or the target's
   flag set is open (flags-import: all, notebooks, config: dest).

Where the executor deliberately differs from Guild: *everything* is checked before the first
step runs (unknown operation, unknown flag, bad value, cycle, undefined reference, malformed
step). Guild only parses steps up front and fails mid-workflow on the rest (C14, C23).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from ..model import flagvals as fv
from ..model import scriptflags

STEP_OPTION_ORDER = [
    # (param, option string, kind) in the order Guild's steps_main emits them
    ("batch_label", "--batch-label", "value"),
    ("batch_tags", "--batch-tag", "multi"),
    ("fail_on_trial_error", "--fail-on-trial-error", "switch"),
    ("force_flags", "--force-flags", "switch"),
    ("gpus", "--gpus", "value"),
    ("label", "--label", "value"),
    ("max_trials", "--max-trials", "value"),
    ("maximize", "--maximize", "value"),
    ("minimize", "--minimize", "value"),
    ("needed", "--needed", "switch"),
    ("no_gpus", "--no-gpus", "switch"),
    ("opt_flags", "--opt-flag", "multi"),
    ("optimize", "--optimize", "switch"),
    ("optimizer", "--optimizer", "value"),
    ("random_seed", "--random-seed", "value"),
    ("remote", "--remote", "value"),
    ("stop_after", "--stop-after", "value"),
    ("tags", "--tag", "multi"),
]

MAX_NESTING = 100  # workflow levels (Guild: one process per level, no limit)

EXEC_SPECIAL_REFS = ("python_exe", "guild_python_exe", "project_dir", "flag_args", "main_args")


class PlanError(Exception):
    """The workflow cannot start. `message` uses Guild's wording; `where` names the step."""

    def __init__(self, message: str, where: Optional[str] = None, hint: Optional[str] = None,
                 range: Any = None, exit_code: int = 1):
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint
        self.range = range
        self.exit_code = exit_code

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += "\n" + self.hint
        return text


@dataclass
class Check:
    kind: str  # 'output' | 'file'
    pattern: Optional[str] = None  # output regex or file glob
    contains: Optional[str] = None
    compare_to: Optional[str] = None

    def to_json(self) -> dict:
        d: dict = {self.kind: self.pattern}
        if self.contains is not None:
            d["contains"] = self.contains
        if self.compare_to is not None:
            d["compare-to"] = self.compare_to
        return d


@dataclass
class PlanStep:
    name: str  # link / display name (`name:` or the opspec as written)
    opspec: str  # as Guild resolves it (parent's model prefixed)
    operation: Any  # guildls.model.Operation
    kind: str  # 'steps' | 'exec' | 'main'
    flags: dict  # every flag value of the run (defaults filled, coerced); None = unset
    assigns: dict  # what the parent passes (printed in the `running` line)
    options: dict = field(default_factory=dict)
    expect: list = field(default_factory=list)
    isolate_runs: bool = True
    steps: list = field(default_factory=list)
    index: Optional[int] = None  # position in the parent's steps (0-based); None for the root
    path: str = ""  # 'end-to-end > train'
    user_flags: dict = field(default_factory=dict)
    flags_dest: str = "args"
    main_module: Optional[str] = None
    main_args: list = field(default_factory=list)
    force_flags: bool = False
    warnings: list = field(default_factory=list)  # printed as `WARNING: <text>`
    # resolved `requires`: [(resource name, [(source name, effective attrs, Source)])]
    deps: list = field(default_factory=list)
    flags_open: bool = False
    flag_defs: dict = field(default_factory=dict)  # name -> attrs (guild file + script)
    # a batch (batch.py): the batch's description, and one ordinary op PlanStep per trial
    batch: Any = None
    trials: list = field(default_factory=list)

    # -- display ---------------------------------------------------------------------------
    def option_args(self) -> list[str]:
        out: list[str] = []
        for param, opt, kind in STEP_OPTION_ORDER:
            val = self.options.get(param)
            if val is None or val is False or val == [] or val == "":
                continue
            if kind == "switch":
                out.append(opt)
            elif kind == "multi":
                for v in val if isinstance(val, list) else [val]:
                    out += [opt, str(v)]
            else:
                out += [opt, str(val)]
        return out

    def command_text(self) -> str:
        """`<opspec> [options] [sorted flags]` exactly as Guild's `running` line shows it."""
        return " ".join([self.opspec] + self.option_args() + fv.flag_assigns(self.assigns))

    def running_line(self) -> str:
        return f"INFO: [guild] running {self.name}: {self.command_text()}"

    def count(self) -> int:
        """Number of step runs below this one (recursively)."""
        return sum(1 + s.count() for s in self.steps)

    def walk(self) -> Iterable["PlanStep"]:
        for s in self.steps:
            yield s
            yield from s.walk()

    def to_json(self) -> dict:
        d = {
            "name": self.name,
            "operation": self.opspec,
            "kind": self.kind,
            "flags": _jsonable(self.flags),
            "assigns": _jsonable(self.assigns),
            "options": _jsonable(self.options),
            "command": self.command_text(),
        }
        if self.expect:
            d["expect"] = [c.to_json() for c in self.expect]
        if self.index is not None:
            d["isolate_runs"] = self.isolate_runs
        if self.kind == "steps":
            d["steps"] = [s.to_json() for s in self.steps]
        if self.batch is not None:
            d["batch"] = {"optimizer": self.batch.optimizer, "description": self.batch.describe(),
                          "max_trials": self.batch.max_trials,
                          "random_seed": self.batch.random_seed,
                          "trials": [_jsonable(t.flags) for t in self.trials]}
        return d

    def batch_lines(self, pad: str) -> list:
        if self.batch is None:
            return []
        lines = [f"{pad}batch: {self.batch.describe()}"]
        for i, t in enumerate(self.trials):
            shown = fv.flag_assigns({k: v for k, v in t.flags.items()
                                     if k in self.batch.varying or k in t.user_flags})
            lines.append(f"{pad}  trial {i + 1}: {' '.join(shown)}")
        return lines

    def to_text(self, indent: int = 0) -> str:
        pad = "  " * indent
        if self.index is None:
            flags = " ".join(fv.flag_assigns({k: v for k, v in self.flags.items() if v is not None}))
            kind = (f"workflow, {self.count()} step run{'s' if self.count() != 1 else ''}"
                    if self.kind == "steps" else self.kind)
            if self.batch is not None:
                kind = f"batch of {len(self.trials)} trial{'s' if len(self.trials) != 1 else ''}"
                flags = ""
            lines = [f"{pad}{self.opspec}" + (f" {flags}" if flags else "") + f"  ({kind})"]
            lines += self.batch_lines(pad + "  ")
        else:
            lines = [f"{pad}{self.index + 1}. {self.name}: {self.command_text()}"]
            extra = []
            full = fv.flag_assigns({k: v for k, v in self.flags.items()
                                    if v is not None and k not in self.assigns})
            if full and self.kind != "steps" and self.batch is None:
                extra.append("defaults " + " ".join(full))
            if not self.isolate_runs:
                extra.append("isolate-runs: no")
            for c in self.expect:
                extra.append("expect " + ", ".join(f"{k} {v!r}" for k, v in c.to_json().items()))
            for e in extra:
                lines.append(f"{pad}     {e}")
            lines += self.batch_lines(pad + "     ")
        for s in self.steps:
            lines.append(s.to_text(indent + (1 if self.index is not None else 0)))
        return "\n".join(lines)


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


# ---------------------------------------------------------------------------------------
# Operation lookup (messages from guild-workflow-observed.md section 4)


def _not_found(gf, opspec: str, from_model=None, where: Optional[str] = None) -> PlanError:
    named_models = [m for m in gf.models if m]
    if ":" in opspec:
        mref, opname = opspec.split(":", 1)
        models = gf.models_matching(mref) if mref else ([gf.models[""]] if "" in gf.models else [])
        if len(models) > 1:
            return PlanError(
                f"there are multiple models that match '{mref}'", where,
                "Try specifying one of the following:\n"
                + "\n".join(f"  {m.name}" for m in models))
        if len(models) == 1 and models[0].name:
            return PlanError(
                f"operation '{opname}' is not defined for model '{models[0].name}'", where,
                f"Try 'guild operations {models[0].name}' for a list of available operations.")
        if len(models) == 1:
            return PlanError(f"operation '{opname}' is not defined for this project", where,
                             "Try 'guild operations' for a list of available operations.")
        return PlanError(f"cannot find operation {opspec}", where,
                         "Try 'guild operations' for a list of available operations.")
    if from_model is not None and from_model.name:
        return PlanError(
            f"operation '{opspec}' is not defined for model '{from_model.name}'", where,
            f"Try 'guild operations {from_model.name}' for a list of available operations.")
    if named_models:
        return PlanError(
            f"cannot find operation {opspec}", where,
            "You may need to include a model in the form MODEL:OPERATION. "
            "Try 'guild operations' for a list of available operations.")
    return PlanError(f"operation '{opspec}' is not defined for this project", where,
                     "Try 'guild operations' for a list of available operations.")


def find_operation(gf, opspec: str, from_model=None, where: Optional[str] = None):
    op = gf.find_operation(opspec, from_model)
    if op is None:
        raise _not_found(gf, opspec, from_model, where)
    return op


class _ScriptFlag:
    def __init__(self, name, attrs):
        self.name = name
        self.attrs = attrs


class _Anonymous:
    name = ""
    resources: dict = {}
    data = None


class ScriptOperation:
    """A `*.py` file run as an operation (Guild's python_script plugin): `guild run
    train.py` or a step `- train.py` in an operation-only guild file. Flags are the script's
    global assignments (typed), or an open set when it uses argparse/click."""

    def __init__(self, name: str, path: str, model=None):
        self.name = name
        self.model = model if model is not None else _Anonymous()
        self.path = path
        info = script_info(path)
        self.flags_open = info["dest"] != "globals"
        self.flags = {} if self.flags_open else {
            n: _ScriptFlag(n, dict(_imported_global_attrs(v), type=_type_for_val(v)))
            for n, v in info["globals"].items()}
        self.requires: list = []
        self.steps = None
        self.exec = None
        self.main = name[:-3] if name.endswith(".py") else name
        self.is_workflow = False
        self.label = None
        self.env: dict = {}
        self.key_range = None

    @property
    def fullname(self) -> str:
        return self.name

    def value(self, key, default=None):
        return default

    def attr(self, key):
        return None


def script_operation(gf, opspec: str, project_dir: Optional[str]):
    """A ScriptOperation for `X.py` (anonymous model only, as in Guild), else None."""
    if not project_dir or not opspec.endswith(".py") or ":" in opspec:
        return None
    path = os.path.join(project_dir, opspec)
    if not os.path.isfile(path):
        return None
    return ScriptOperation(opspec, path, gf.models.get(""))


def find_root_operation(gf, opspec: str, project_dir: Optional[str] = None):
    """`guild run OPSPEC` lookup: an unqualified name is looked up in the default model only;
    an existing `*.py` file runs as a script operation."""
    if ":" in opspec:
        return find_operation(gf, opspec)
    m = gf.default_model
    if m is None or opspec not in m.operations:
        script = script_operation(gf, opspec, project_dir)
        if script is not None:
            return script
        raise _not_found(gf, opspec, m)
    return m.operations[opspec]


def apply_default_model(opspec: str, model_name: str) -> str:
    if ":" in opspec or not model_name:
        return opspec.split("/", 1)[1] if "/" in opspec and ":" in opspec else opspec
    return f"{model_name}:{opspec}"


# ---------------------------------------------------------------------------------------
# What an operation runs


def op_kind(op) -> str:
    if op.exec:
        return "exec"
    if op.main:
        return "main"
    if op.steps:
        return "steps"
    return "main"  # implicit main: the op name


split_main = scriptflags.split_main
module_source = scriptflags.module_source
script_info = scriptflags.script_info
_imported_global_attrs = scriptflags.imported_global_attrs
_type_for_val = scriptflags.type_for_val


@dataclass
class FlagDef:
    """What we need of a flag: the model's Flag attrs plus script-inferred type."""

    name: str
    attrs: dict

    def __getattr__(self, item):
        attrs = self.__dict__.get("attrs", {})
        key = item.replace("_", "-")
        if key in attrs:
            return attrs[key]
        return attrs.get(item)


def effective_flags(op, project_dir: Optional[str]) -> tuple[dict, str, Optional[str], list, bool]:
    """(flag defs by name, flags dest, main module, main args, open flag set) for an op.

    For a `main` script using globals (no argparse/click) the flags Guild imports are
    knowable: its top-level literal assignments. So `flags-import: all` / a list yields a
    closed, typed flag set, as in Guild (C21); argparse/click scripts stay open."""
    defs = {name: FlagDef(name, dict(f.attrs)) for name, f in op.flags.items()}
    open_ = bool(op.flags_open)
    kind = op_kind(op)
    dest = "args"
    module = None
    margs: list = []
    explicit_dest = op.value("flags-dest") if hasattr(op, "value") else None
    if kind == "main":
        module, margs = split_main(op)
        if not module.startswith("guild."):
            info = script_info(module_source(project_dir, module))
            dest = explicit_dest if isinstance(explicit_dest, str) else info["dest"]
            fi = op.value("flags-import") if hasattr(op, "value") else None
            if dest == "globals" and (fi is True or fi == "all" or isinstance(fi, list)) \
                    and not (op.value("notebook") if hasattr(op, "value") else None):
                skip = op.value("flags-import-skip") or []
                skip = set(skip) if isinstance(skip, list) else {skip}
                for name, val in info["globals"].items():
                    if name in defs or name in skip:
                        continue
                    if isinstance(fi, list) and name not in fi:
                        continue
                    defs[name] = FlagDef(name, _imported_global_attrs(val))
                open_ = bool(getattr(op.model, "open", False))
            if dest == "args" and info.get("argparse"):
                imported = info["argparse"]
                skip = op.value("flags-import-skip") or []
                skip = set(skip) if isinstance(skip, list) else {skip}
                for name, attrs in imported.items():
                    if name in defs:  # declared: enriched with the script's type/default
                        for k, v in attrs.items():
                            defs[name].attrs.setdefault(k, v)
                    elif (fi is True or fi == "all" or (isinstance(fi, list) and name in fi)) \
                            and name not in skip:
                        defs[name] = FlagDef(name, dict(attrs))
                # the set stays open: a helper may add arguments we cannot see statically
            if dest == "globals":
                for name, d in defs.items():
                    if d.attrs.get("type") is None and name in info["globals"]:
                        t = _type_for_val(info["globals"][name])
                        if t:
                            d.attrs["type"] = t
                        if "default" not in d.attrs or d.attrs.get("default") is None:
                            if d.attrs.get("arg-skip") is None:
                                d.attrs["default"] = info["globals"][name]
    elif isinstance(explicit_dest, str):
        dest = explicit_dest
    return defs, dest, module, margs, open_


# ---------------------------------------------------------------------------------------
# Flag values for a target (op_util.flag_vals_for_opdef)


def flag_vals_for_op(op, defs: dict, user_vals: dict, force: bool, opspec: str,
                     where: Optional[str], open_: Optional[bool] = None,
                     project_dir: Optional[str] = None) -> dict:
    if open_ is None:
        open_ = bool(op.flags_open)
    vals = dict(user_vals)
    # aliases
    for d in defs.values():
        alias = d.attrs.get("alias")
        if not alias or alias == d.name:
            continue
        if alias in vals and d.name in vals:
            if not force:
                raise PlanError(f"cannot specify both alias '{alias}' and name for flag '{d.name}'", where)
            continue
        if alias in vals:
            vals[d.name] = vals.pop(alias)
    # defaults
    for d in defs.values():
        if d.name not in vals:
            vals[d.name] = d.attrs.get("default")
    # coerce
    for name, val in list(vals.items()):
        d = defs.get(name)
        if d is None:
            continue
        try:
            vals[name] = fv.coerce_flag_value(val, d.attrs)
        except (ValueError, TypeError) as e:
            if not force:
                raise PlanError(f"invalid value {fv.encode_flag_val(val) if not isinstance(val, str) else val} for {name}: {e}", where)
        if d.attrs.get("type") in ("path", "existing-path"):
            vals[name] = _abs_path(vals[name], project_dir)
    if not force:
        if not open_:
            for name in vals:
                if name not in defs:
                    raise PlanError(
                        f"unsupported flag '{name}'", where,
                        f"Try 'guild run {opspec} --help-op' for a list of flags or use "
                        "--force-flags to skip this check.")
        for name, d in defs.items():
            try:
                fv.check_flag_value(vals.get(name), d.attrs, name)
            except fv.FlagValueError as e:
                raise PlanError(str(e), where)
            val = vals.get(name)
            _check_range_comparable(val, d.attrs, name, where)
            if d.attrs.get("type") == "existing-path" and isinstance(val, str) and val \
                    and not os.path.exists(val):
                raise PlanError(f"invalid value {val} for {name}: {val} does not exist", where)
        missing = [d for d in defs.values() if d.attrs.get("required") and vals.get(d.name) in (None, "")]
        if missing:
            rows = "\n".join(f"  {d.name}  {(d.attrs.get('description') or '').strip()}".rstrip() for d in missing)
            raise PlanError(
                "Operation requires the following missing flags:\n\n" + rows
                + "\n\nRun the command again with these flags specified as NAME=VAL.", where)
    # choice aliases and choice flags
    for d in defs.values():
        if not d.attrs.get("choices"):
            continue
        val = vals.get(d.name)
        if val is None:
            continue
        vals[d.name] = fv.choice_value_for_alias(d.attrs, val)
        for fname, fval in fv.choice_flags(d.attrs, val).items():
            if user_vals.get(fname) is None:
                vals[fname] = fval
    return vals


def _check_range_comparable(val: Any, attrs: dict, name: str, where: Optional[str]) -> None:
    """Guild compares a value with `min`/`max` as is: a string bound (`min: '0'`) or a text
    value of an untyped flag (`x=abc`) makes its run crash with a TypeError. Refused here."""
    if val is None or fv.is_flag_function(val):
        return
    split = attrs.get("arg-split")
    if split is not None and split is not False and isinstance(val, str):
        val = [fv.decode_flag_val(p) for p in fv.split_flag_val(val, split)]
    for x in val if isinstance(val, list) else [val]:
        for key in ("min", "max"):
            bound = attrs.get(key)
            if bound is None:
                continue
            try:
                _ = x < bound
            except TypeError:
                raise PlanError(
                    f"invalid value {fv.encode_flag_val(x)} for {name}: cannot be compared with "
                    f"{key} {fv.encode_flag_val(bound)} (Guild fails with a TypeError) - use "
                    "numbers for min/max and a type for the flag", where)


def _abs_path(val: Any, project_dir: Optional[str]) -> Any:
    """Guild's _resolve_rel_path for `path`/`existing-path` flags: `~` expanded, a relative
    path made absolute. Guild resolves against its cwd; we use the project directory (the
    same for `guild run` in the project, and `guildls run -C DIR` / the editor agree)."""
    if not isinstance(val, str) or not val:
        return val
    val = os.path.expanduser(val)
    if not os.path.isabs(val):
        val = os.path.normpath(os.path.join(os.path.abspath(project_dir or os.getcwd()), val))
    return val


def _check_arg_markers(text: str, kind: str, where: Optional[str]) -> None:
    """Guild replaces `${flag_args}` (and in `exec`, `${main_args}`) only when it is a whole
    word of the command; anywhere else the reference is undefined and Guild refuses it."""
    import shlex

    try:
        words = shlex.split(text)
    except ValueError:
        return
    whole = ("${flag_args}", "${main_args}") if kind == "exec" else ("${flag_args}",)
    for word in words:
        if word in whole:
            continue
        for ref in ("flag_args", "main_args"):
            if "${%s}" % ref in word:
                raise PlanError("invalid setting for operation: command contains invalid "
                                f"reference '{ref}'", where)


def _check_command_refs(op, kind: str, flags: dict, defs: dict, where: Optional[str],
                        open_: bool = False) -> None:
    texts = []
    if kind == "exec":
        texts.append((op.exec, set(flags) | set(EXEC_SPECIAL_REFS)))
    elif kind == "main" and op.main:
        texts.append((op.main, set(flags) | set(EXEC_SPECIAL_REFS)))
    for k, v in (op.env or {}).items():
        if not isinstance(v, str):
            continue
        # Guild resolves env values against the flag values only (no python_exe, ...)
        texts.append((v, set(flags)))
        try:
            val = fv.resolve_refs(v, flags)
        except (fv.UndefinedReferenceError, fv.ReferenceCycleError):
            continue
        if not isinstance(val, str) and fv.refs_in(v):
            # a whole `${flag}` keeps the flag's type: Guild's Popen fails with a TypeError
            raise PlanError(
                f"invalid setting for operation: env {k}: {v} is {fv.encode_flag_val(val)} "
                f"({type(val).__name__}), which Guild cannot put in the environment "
                f"(TypeError) - give the flag 'type: string'", where)
    for t, _ in texts[:1]:  # exec/main: only whole words expand ${flag_args} / ${main_args}
        _check_arg_markers(t, kind, where)
    if open_:
        return
    for t, known in texts:
        for ref in fv.refs_in(t):
            if ref not in known:
                raise PlanError(
                    f"invalid setting for operation: command contains invalid reference '{ref}'", where)


# ---------------------------------------------------------------------------------------
# Building


def split_batch_files(args: Iterable[str]) -> tuple[list, list]:
    """`@file` words (batch files, without the `@`) apart from the other words."""
    files, rest = [], []
    for a in args:
        (files if a.startswith("@") else rest).append(a[1:] if a.startswith("@") else a)
    return files, rest


def parse_user_flags(args: Iterable[str]) -> dict:
    """`NAME=VAL` words -> {name: raw text}; decoded later with the target flag's type."""
    vals = {}
    bad = []
    for a in args:
        name, sep, val = a.partition("=")
        if not sep or not name:
            bad.append(a)
            continue
        vals[name] = val
    if bad:
        raise PlanError("invalid argument(s):\n" + "\n".join(bad) + "\nexpected NAME=VAL")
    return vals


BATCH_RUN_OPTIONS = ("max_trials", "random_seed", "optimizer", "optimize", "fail_on_trial_error")


def build_plan(gf, opspec: str, user_flags: Any = None, *, label: Optional[str] = None,
               tags: Iterable[str] = (), force_flags: bool = False,
               project_dir: Optional[str] = None, needed: bool = False,
               batch_options: Optional[dict] = None) -> PlanStep:
    """The plan for `guild run OPSPEC [user flags] [@batch files]`. Raises PlanError before
    anything runs. `batch_options`: max_trials, random_seed, optimizer, optimize,
    fail_on_trial_error (Guild's run options of the same names)."""
    if gf is None:
        raise PlanError("no guild file")
    errors = [p for p in getattr(gf, "problems", []) if getattr(p, "severity", "") == "error"]
    if errors:
        p = errors[0]
        line = p.range[0] + 1 if isinstance(p.range, tuple) else getattr(p.range, "start_line", 0) + 1
        raise PlanError(f"guild file contains an error (line {line}): {p.message}",
                        hint=f"{len(errors)} error(s) in {gf.path or 'the guild file'}")
    project_dir = project_dir or (gf.dir if getattr(gf, "path", None) else None)
    op = find_root_operation(gf, opspec, project_dir)
    batch_files: list = []
    if isinstance(user_flags, dict):
        uvals = dict(user_flags)
    else:
        batch_files, words = split_batch_files(user_flags or [])
        raw = parse_user_flags(words)
        defs, _, _, _, _ = effective_flags(op, project_dir)
        types = {n: d.attrs.get("type") for n, d in defs.items()}
        for d in defs.values():
            if d.attrs.get("alias"):
                types.setdefault(d.attrs["alias"], d.attrs.get("type"))
        uvals = {n: fv.decode_flag_val(v, types.get(n)) for n, v in raw.items()}
    root_opspec = op.fullname
    options = {"label": label, "tags": list(tags), "force_flags": force_flags or None,
               "needed": needed or None}
    for key in BATCH_RUN_OPTIONS:
        if (batch_options or {}).get(key) not in (None, False, ""):
            options[key] = batch_options[key]
    root = _build(gf, op, root_opspec, name=root_opspec, assigns=uvals, user_vals=uvals,
                  options=options, force=force_flags, project_dir=project_dir,
                  stack=[], path=root_opspec, index=None, where=None, parent_run_params=options,
                  batch_files=batch_files)
    return root


def _build(gf, op, opspec, *, name, assigns, user_vals, options, force, project_dir, stack,
           path, index, where, parent_run_params, isolate_runs=True, expect=(),
           batch_files=()) -> PlanStep:
    if op.fullname in stack:
        chain = " -> ".join(stack + [op.fullname])
        raise PlanError(f"cycle in steps ({chain})", where)
    if len(stack) >= MAX_NESTING:  # the plan, runner and displays recurse per level
        raise PlanError(f"workflows nested deeper than {MAX_NESTING} levels ({stack[0]} > … > "
                        f"{stack[-1]} > {op.fullname}) are not supported by guildls' bundled "
                        "executor - run this with Guild")
    kind = op_kind(op)
    if kind == "main" and not op.main and _has_empty_steps(op):
        raise PlanError(
            f"operation '{op.fullname}' has an empty steps list: nothing to run "
            f"(Guild would run it as the Python module '{split_main(op)[0]}')", where)
    defs, dest, module, margs, open_ = effective_flags(op, project_dir)
    batch = None
    trial_vals = [user_vals]
    if kind == "steps":
        if batch_files:
            raise _batch_error(f"@{batch_files[0]} is a batch file, which Guild runs as a batch",
                               where)
        _refuse_batch(op, defs, user_vals, options, where)
    else:
        batch, trial_vals = _plan_batch(defs, user_vals, options, where, project_dir,
                                        batch_files)
    if kind == "main":
        _check_main_not_only_on_python_path(op, module, project_dir, where)

    def op_node(uvals: dict, node_path: str) -> PlanStep:
        flags = flag_vals_for_op(op, defs, uvals, force, opspec, where, open_, project_dir)
        _check_command_refs(op, kind, flags, defs, where, open_)
        step = PlanStep(name=name, opspec=opspec, operation=op, kind=kind, flags=flags,
                     assigns=dict(assigns), options=dict(options), expect=list(expect),
                     isolate_runs=isolate_runs, index=index, path=node_path,
                     user_flags=dict(uvals), flags_dest=dest, main_module=module,
                     main_args=margs, force_flags=force, flags_open=open_,
                     flag_defs={n: d.attrs for n, d in defs.items()})
        if kind != "steps":
            step.deps = [dependency_sources(gf, op, dep, where, flags)
                         for dep in op.requires or []]
        return step

    if batch is not None:
        node = op_node(trial_vals[0], path)
        node.user_flags = dict(user_vals)
        node.batch = batch
        node.trials = [op_node(t, f"{path} > trial {i + 1}") for i, t in enumerate(trial_vals)]
    else:
        node = op_node(trial_vals[0], path)  # user values (+ a one-trial batch file's)
    flags = node.flags
    for opt in IGNORED_OPTIONS:
        if options.get(opt):
            node.warnings.append(f"[guildls] option {opt.replace('_', '-')} is ignored by guildls' executor")
    if options.get("max_trials") and kind != "steps" and batch is None:
        node.warnings.append("not a batch run - ignoring --max-trials")
    if kind == "steps":
        run_params = {"label": options.get("label"), "tags": list(options.get("tags") or [])}
        for i, step in enumerate(op.steps):
            node.steps.append(_build_step(gf, op, step, i, flags, run_params, project_dir,
                                          stack + [op.fullname], path))
    return node


# options that make Guild start a batch; --max-trials, --opt-flag, --minimize, --maximize
# alone do not (Guild runs the operation; for --max-trials it warns)
def _check_main_not_only_on_python_path(op, module: Optional[str], project_dir: Optional[str],
                                        where: Optional[str]) -> None:
    """Guild does not look for the `main` module in `python-path` dirs: its run fails with
    `No module named X` (and imports no flags). We refuse that before running."""
    if not module or module.startswith("guild.") or not project_dir \
            or module_source(project_dir, module) is not None:
        return
    pp = op.value("python-path") if hasattr(op, "value") else None
    for entry in [pp] if isinstance(pp, str) else (pp if isinstance(pp, list) else []):
        if isinstance(entry, str) and module_source(os.path.join(project_dir, entry), module):
            mod_path = f"{entry.rstrip('/')}/{module}"
            raise PlanError(f"No module named {module}", where,
                            f"Guild does not look for the main module in python-path "
                            f"'{entry}': use 'main: {mod_path}'")


BATCH_OPTIONS = ("optimizer", "optimize")
IGNORED_OPTIONS = ("remote", "stop_after", "stage_trials", "batch_label", "batch_tags")


def _plan_batch(defs: dict, user_vals: dict, options: dict, where, project_dir,
                batch_files) -> tuple:
    """(Batch or None, [user values of each trial]) with Guild's batch rules (batch.py)."""
    from . import batch as B

    user_vals = dict(user_vals)
    try:
        file_trials = B.read_batch_files(list(batch_files), project_dir or os.getcwd()) \
            if batch_files else []
        if len(file_trials) == 1:  # Guild: one trial is not a batch, its values are flags
            for k, v in file_trials[0].items():
                user_vals.setdefault(k, v)
            file_trials = []

        def splits(n):
            d = defs.get(n)
            return d is not None and d.attrs.get("arg-split") is not None

        vals = {n: d.attrs.get("default") for n, d in defs.items()}
        vals.update(user_vals)
        vals = {n: v if splits(n) else B.expand_sequence(v, n) for n, v in vals.items()}
        for n in [n for n in vals if splits(n)]:
            vals.pop(n)  # a splittable value is one value, never a batch
        batch = B.plan_batch(
            vals, file_trials=file_trials, user_vals=user_vals,
            optimizer=options.get("optimizer"), optimize=bool(options.get("optimize")),
            max_trials=options.get("max_trials"), random_seed=options.get("random_seed"),
            batch_files=list(batch_files),
            fail_on_trial_error=bool(options.get("fail_on_trial_error")))
    except B.BatchError as e:
        raise PlanError(str(e), where)
    if batch is None:
        return None, [user_vals]
    if not batch.trials:
        raise PlanError("the batch has no trials (an empty list of values): nothing to run",
                        where)
    keys = set(user_vals) | set(batch.varying) | {k for r in file_trials for k in r}
    return batch, [{k: v for k, v in t.items() if k in keys} for t in batch.trials]


def _refuse_batch(op, defs, user_vals, options, where) -> None:
    """Batches (list values, search functions, optimizers) are Guild's; we refuse them."""
    why = None
    for name, val in user_vals.items():
        d = defs.get(name)
        split = d is not None and d.attrs.get("arg-split") is not None
        if isinstance(val, list) and not split:
            why = f"{fv.flag_assign(name, val)} is a list of values, which Guild runs as a batch"
        elif fv.is_flag_function(val):
            why = f"{name}={val} is a search function, which Guild runs with an optimizer"
        if why:
            break
    if why is None:
        for name, d in defs.items():
            default = d.attrs.get("default")
            if name not in user_vals and isinstance(default, list) \
                    and d.attrs.get("arg-split") is None:
                why = (f"the default {fv.flag_assign(name, default)} is a list of values, "
                       "which Guild runs as a batch")
                break
    if why is None:
        for opt in BATCH_OPTIONS:
            if options.get(opt):
                why = f"the option {opt.replace('_', '-')} starts a batch run"
                break
    if why is not None:
        raise _batch_error(why, where)


def _batch_error(why: str, where: Optional[str]) -> PlanError:
    return PlanError(f"{why}: batch runs are not supported by guildls' bundled executor "
                     "- run this with Guild", where)


SUPPORTED_SOURCES = ("operation", "file", "module")


def dependency_sources(gf, op, dep, where, flags) -> tuple:
    """(resource name, [(source name, effective attrs, Source)]) for one `requires` item.
    Refuses (PlanError) what the executor cannot resolve: undefined named resources and
    source types other than operation, file and module."""
    if dep.kind == "resource":
        ref = str(dep.resource or "")
        model, rname = op.model, ref
        if ":" in ref:
            mname, rname = ref.split(":", 1)
            model = gf.models.get(mname)
            if model is None:
                raise PlanError(f"invalid definition for operation '{op.fullname}': model "
                                f"'{mname}' in resource '{ref}' required by operation "
                                f"'{op.fullname}' is not defined", where)
        res = model.resources.get(rname) if model is not None else None
        if res is None:
            raise PlanError(f"invalid definition for operation '{op.fullname}': resource "
                            f"'{ref}' required by operation '{op.fullname}' is not defined", where)
        rattrs = dict(res.attrs or {})
        sources = res.sources
        name = ref
    else:
        many = "sources" in (dep.attrs or {})
        rattrs = dict(dep.attrs) if many else {}
        sources = dep.sources
        name = None
        if many:
            name = rattrs.get("name") if isinstance(rattrs.get("name"), str) else \
                f"{op.model.name if op.model else ''}:inline"
    out = []
    for src in sources:
        if src.kind not in SUPPORTED_SOURCES:
            what = f"{src.kind} sources" if src.kind != "unknown" else "this source"
            raise PlanError(f"{what} in the requirements of '{op.fullname}' are not supported "
                            "by guildls' bundled executor - run this with Guild", where)
        attrs = {k: v for k, v in rattrs.items()
                 if k in ("target-path", "path", "target-type", "preserve-path")}
        attrs.update(src.attrs or {})
        spec = src.spec
        if isinstance(spec, str) and "${" in spec:
            try:
                spec = fv.resolve_refs(spec, flags)
            except fv.UndefinedReferenceError as e:
                raise PlanError(f"run failed because a dependency was not met: cannot resolve "
                                f"'{src.spec}': undefined reference '{e.reference}'", where)
            src = type(src)(src.kind, spec, src.attrs, src.node, src.spec_node)
        sname = attrs.get("name") if isinstance(attrs.get("name"), str) else f"{src.kind}:{spec}"
        out.append((sname, attrs, src))
    if name is None:
        name = out[0][0] if out else "?"
    return name, out


def _has_empty_steps(op) -> bool:
    n = op.attr("steps") if hasattr(op, "attr") else None
    if n is None:
        return False
    try:
        v = n.py()
    except Exception:
        return False
    return v == [] or v == {}


_OPREF_RE = re.compile(r"(?:(?:([^/]+)/)?([^:]+):)?([^/:]+)$")


def _step_where(path: str, i: int, step) -> str:
    desc = step.run if step.run else (step.name or "?")
    return f"{path}: step {i + 1} ({desc})"


def _build_step(gf, parent_op, step, i, parent_flags, parent_run_params, project_dir, stack, path):
    where = _step_where(path, i, step)
    errs = [p for p in step.problems if getattr(p, "severity", "error") == "error"]
    if errs:
        raise PlanError(errs[0].message, where, range=errs[0].range)
    if not step.opspec:
        raise PlanError(f"invalid step: must define run", where, range=step.range)
    written = step.opspec
    if not _OPREF_RE.match(written):  # Guild's OpRef.for_string (steps_main stops there)
        raise PlanError(f"invalid reference: {written!r}", where)
    batch_files = [f[1:] if f.startswith("@") else f for f in step.batch_files or []]
    resolved_spec = apply_default_model(written, parent_op.model.name)
    name = step.name or written
    target = gf.find_operation(resolved_spec, parent_op.model)
    if target is None and not parent_op.model.name:
        target = script_operation(gf, resolved_spec, project_dir)
    if target is None:
        raise _not_found(gf, written if ":" in written else resolved_spec,
                         parent_op.model if ":" not in written else None, where)
    # 1. assignments
    vals = {}
    for a in step.effective_assigns:
        vals[a.name] = a.value
    # 2. prefixed parent flags
    prefixed = {}
    for prefix in (resolved_spec + ":", name + ":"):
        for fname, fval in parent_flags.items():
            if fname.startswith(prefix):
                prefixed.setdefault(fname[len(prefix):], fval)
    vals.update(prefixed)
    # 3. resolve refs against parent flags
    resolved = {}
    for fname, fval in vals.items():
        resolved[fname] = _resolve(fval, parent_flags, where)
    # 4. drop null
    resolved = {k: v for k, v in resolved.items() if v is not None}
    # options
    opts = {k: v for k, v in step.options.items() if k != "opspec"}
    for key in ("label", "gpus"):
        if opts.get(key) is not None:
            r = _resolve(opts[key], parent_flags, where)
            opts[key] = None if r is None else str(r)
    tags = opts.get("tags")
    if tags is not None and not isinstance(tags, list):
        tags = [tags]
    opts["tags"] = [str(_resolve(t, parent_flags, where)) for t in (tags or [])]
    if opts.get("label") is None and parent_run_params.get("label") is not None:
        opts["label"] = parent_run_params["label"]
    if not opts["tags"] and parent_run_params.get("tags"):
        opts["tags"] = list(parent_run_params["tags"])
    force = bool(opts.get("force_flags"))
    # 5. cross the process boundary as text, re-decoded with the target's flag types
    defs_preview = {n: f.attrs for n, f in target.flags.items()}
    if op_kind(target) == "main":
        defs_full, _, _, _, _ = effective_flags(target, project_dir)
        defs_preview = {n: d.attrs for n, d in defs_full.items()}
    user_vals = {}
    for fname, fval in resolved.items():
        ftype = (defs_preview.get(fname) or {}).get("type")
        text = fv.format_flag(fval)
        user_vals[fname] = fv.decode_flag_val(text, ftype)
    # checks
    checks = []
    for c in step.expect:
        if c.kind == "unknown":
            continue
        pat = c.pattern if isinstance(c.pattern, str) else (None if c.pattern is None else str(c.pattern))
        regexes = [pat] if c.kind == "output" else []
        if c.contains is not None:
            regexes.append(str(c.contains))
        for rx in regexes:
            try:
                re.compile(rx or "")
            except re.error:
                raise PlanError(f"invalid check: invalid regular expression: {rx!r}", where)
        checks.append(Check(c.kind, pat, None if c.contains is None else str(c.contains),
                            None if c.compare_to is None else str(c.compare_to)))
    child_path = f"{path} > {name}"
    return _build(gf, target, resolved_spec, name=name, assigns=resolved, user_vals=user_vals,
                  options=opts, force=force, project_dir=project_dir, stack=stack, path=child_path,
                  index=i, where=where, parent_run_params=opts, isolate_runs=step.isolate_runs,
                  expect=checks, batch_files=batch_files)


def _resolve(val, flags, where):
    try:
        return fv.resolve_refs(val, flags)
    except fv.UndefinedReferenceError as e:
        raise PlanError(
            f"undefined reference '${{{e.reference}}}': the workflow has no flag '{e.reference}'",
            where)
    except fv.ReferenceCycleError as e:
        raise PlanError(f"reference cycle: {' -> '.join(e.chain)}", where)
