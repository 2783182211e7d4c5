"""Semantic checks: steps, flags, references, cycles, dependencies.

Pure functions of a loaded :class:`~guildls.model.Guildfile`. Where the server cannot
know (imported flags, package models, plugin targets) it stays silent or speaks at hint
level; messages follow Guild's wording where Guild has one.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from typing import Dict, List, Optional, Tuple

from ..model import INFO, WARNING, Flag, Guildfile, Model, Operation, Problem, Step
from ..model import batchvals as bv
from ..model import flagvals as fv
from ..model.nodes import MAP, SCALAR
from ..model.runspec import split_words
from . import runchecks
from .refnames import EXEC_NAMES, MAIN_NAMES, WHOLE_WORD_NAMES
from .memo import freeze
from .suggest import did_you_mean, suggest

PLUGIN_SUFFIXES = (".py", ".ipynb", ".r", ".R", ".qmd")
BUILTIN_TARGETS = {"random", "gp", "forest", "gbrt", "bayesian", "gaussian", "queue",
                   "dask:scheduler", "r-script:init", "skopt:random", "skopt:gp", "skopt:forest",
                   "skopt:gbrt"}
# Severity policy: "error" means Guild refuses to load the file; a problem Guild only
# meets when the operation runs (unknown step op, bad flag, undefined ${ref}, ...) is a
# warning. Real files that Guild loads never get an error this way, and `guildls check
# --strict` still fails CI on them.
RUNTIME = WARNING
_REGEX_CHARS = re.compile(r"[\\^$.|?*+()\[\]{}]")


class _Index:
    """Names of the document's operations, computed once per check (the checks of each
    operation look them up instead of listing every operation again)."""

    def __init__(self, gf: Guildfile):
        self.gf = gf
        self._names: Dict[Optional[str], frozenset] = {}
        self._matches: Dict[Tuple[Optional[str], str], Optional[bool]] = {}
        self._fullnames: Optional[List[str]] = None
        self._shortnames: Optional[List[str]] = None
        self._sorted_full: Optional[List[str]] = None
        self.spec_matches: Dict[str, Optional[bool]] = {}  # _op_matches, by source spec

    def names(self, mref: Optional[str]) -> Tuple[bool, frozenset]:
        """-> (any matching model is open, names of the operations of the models `mref` matches)."""
        key = mref or None
        if key not in self._names:
            models = self.gf.models_matching(key) if key else list(self.gf.models.values())
            self._names[key] = (any(m.open for m in models),
                                frozenset(n for m in models for n in m.operations))
        return self._names[key]

    def matches(self, mref: Optional[str], opref: str) -> Optional[bool]:
        """Does `opref` (a name or a regular expression) match an operation of the models `mref` names?"""
        key = (mref or None, opref)
        if key not in self._matches:
            is_open, names = self.names(mref)
            if is_open:
                res: Optional[bool] = None
            elif _REGEX_CHARS.search(opref):
                try:
                    rx = re.compile(opref)
                except re.error:
                    res = None
                else:
                    res = any(rx.fullmatch(n) for n in names)
            else:
                res = opref in names
            self._matches[key] = res
        return self._matches[key]

    def fullnames(self) -> List[str]:
        if self._fullnames is None:
            self._fullnames = list(dict.fromkeys(o.fullname for o in self.gf.operations()))
        return self._fullnames

    def sorted_names(self, full: bool) -> List[str]:
        if full:
            if self._sorted_full is None:
                self._sorted_full = sorted(set(self.fullnames()))
            return self._sorted_full
        if self._shortnames is None:
            self._shortnames = sorted({o.name for o in self.gf.operations()})
        return self._shortnames


class _Ctx:
    def __init__(self, gf: Guildfile, index: Optional[_Index] = None):
        self.gf = gf
        self.index = index if index is not None else _Index(gf)
        self.out: List[Problem] = []

    def add(self, code, severity, message, rng, data=None):
        if rng is None:
            return
        self.out.append(Problem(code, severity, message, rng, data))


def check(gf: Guildfile) -> List[Problem]:
    """All semantic problems of the document (deduplicated, stable order)."""
    run = _Run(gf)
    memo = run.memo
    # every (model, operation) in document order: a "position" below
    cur = [(model, op) for model in gf.models.values() for op in model.operations.values()]
    ops = [op for _m, op in cur]
    prev = memo.state.get("semantics-positions") if memo is not None else None
    cycles = None
    if prev is not None and prev.world == run.world and prev.path == gf.path and len(prev.ops) == len(ops):
        res, volatile, deps, added, cycles = _again(run, prev, cur, ops)
    else:
        res = [run.one(model, op) for model, op in cur]
        volatile: List[int] = []
        deps: Dict[int, List[int]] = {}
        added = 0
        for i, r in enumerate(res):
            added += _track(i, r, volatile, deps)
    workflows = [cur[i] for i, r in enumerate(res) if r[0]]
    if cycles is None:
        cycles = _check_cycles(gf, workflows, run.world)
    if memo is not None:
        memo.state["semantics-operations"] = run.records
        if added <= 2 * len(ops) + 64:  # else start afresh (stale dependencies pile up)
            memo.state["semantics-positions"] = _Positions(run.world, memo.shifts, gf.path, ops, res, volatile,
                                                           deps, added, cycles)
        else:
            memo.state.pop("semantics-positions", None)
    # An operation inherited by several models is checked once per model; a problem
    # counts only when every context that checked the node agrees (no false positives).
    checked = Counter(r[1] for r in res if r[1] is not None)
    found: Dict[Tuple, List] = {}
    for r in res:
        if not r[2]:
            continue
        nid = r[1]
        for p in r[2]:
            # the message may name the model; agreement is on the problem and its place
            k = (nid, p.code, p.range)
            entry = found.get(k)
            if entry is None:
                found[k] = [p, 1]
            else:
                entry[1] += 1
    out = []
    seen = set()
    for (nid, code, rng), (p, count) in found.items():
        if count < checked.get(nid, 0):
            continue
        k = (code, rng)  # one report per problem and place, even when models word it differently
        if k in seen:
            continue
        seen.add(k)
        out.append(p)
    out.extend(cycles)
    return out


class _Run:
    """One check of a document: what the checks of its operations share."""

    def __init__(self, gf: Guildfile):
        self.gf = gf
        self.index = _Index(gf)
        self.memo = memo = gf.chunks
        self.refs_by_op: Optional[Dict[int, list]] = None  # made on the first operation checked
        self.world = None
        self.last: Dict[tuple, tuple] = {}
        self.records: Dict[tuple, tuple] = {}
        if memo is not None:
            # what the checks of one operation read from the rest of the document
            self.world = memo.token("semantics-world", tuple(
                (m.name, m.open, tuple(m.operations), tuple(m.resources)) for m in gf.models.values()))
            self.last = memo.state.get("semantics-operations") or {}

    def one(self, model: Model, op: Operation) -> tuple:
        """The semantic problems of `op` in `model`, remembered when they may be (see
        _static): -> (is a workflow, its node's id or None when it is not checked here, the
        problems, the step targets it was checked against ((operation, status), ...) or None
        when it must be checked again next time whatever changes, what the step cycles read
        of it (_steps_seen), where its problems were then (ChunkCache.anchor))."""
        memo = self.memo
        rk = (id(op), model.name)
        rec = self.last.get(rk)
        if rec is not None and rec[0] is not op:
            rec = None
        static = rec[1] if rec is not None else _static(op)
        seen = _steps_seen(op) if static[0] else None
        if not static[3]:
            return (static[0], None, (), (), seen, None)
        node = op.node
        problems = dyn = None
        targets: tuple = ()
        if memo is not None and static[2] and getattr(op, "_script_flags_open", None) is None:
            if static[1]:
                targets = _resolve_targets(self.gf, model, static[1])
                if not any(t is not None and _script_read(t) for t, _status in targets):
                    # the targets by identity (the record keeps them alive: their ids stay theirs)
                    dyn = (model.open, self.world, tuple((id(t), status) for t, status in targets))
            else:
                dyn = (model.open, self.world, ())
            if dyn is not None and rec is not None and rec[2] == dyn and memo.moved(rec[5], node):
                problems = rec[3]
                memo.hits += 1
                self.records[rk] = rec
        anchor = rec[5] if problems is not None else None
        if problems is None:
            if self.refs_by_op is None:
                self.refs_by_op = {}
                for ref in self.gf.refs:
                    self.refs_by_op.setdefault(id(ref.operation), []).append(ref)
            ctx = _Ctx(self.gf, self.index)
            _check_operation(ctx, model, op, self.refs_by_op.get(id(op), ()))
            problems = ctx.out
            if dyn is not None:
                anchor = memo.anchor(node, problems, ("semantics", rk))
                self.records[rk] = (op, static, dyn, problems, targets, anchor)
        if dyn is None or any(t is None for t, _status in targets):
            # not remembered, or a step target that is none of the document's operations
            # (what it resolves to may depend on files on disk): checked each time
            return (static[0], id(node), problems, None, seen, None)
        return (static[0], id(node), problems, targets, seen, anchor)


class _Positions:
    """The last check's results by position (``check``), for the next version of the
    document: with the same names of models, operations and resources (`world`), a
    position holds the same Operation object when the loader reused it (chunks.py: same
    node), and its problems stay valid unless one of its step targets changed, or lines
    moved since (`shifts`) and its node did not move with them (ChunkCache.moved)."""

    __slots__ = ("world", "shifts", "path", "ops", "res", "volatile", "deps", "added", "cycles")

    def __init__(self, world, shifts, path, ops, res, volatile, deps, added, cycles):
        self.world = world
        self.shifts = shifts
        self.path = path
        self.ops = ops  # the Operation at each position (kept alive: ids below stay theirs)
        self.res = res  # _Run.one's result at each position
        self.volatile = volatile  # positions checked again each time
        # id of an operation -> positions of the workflows checked against it as a step target
        # (grows by the targets of every workflow checked again; `added` counts them)
        self.deps = deps
        self.added = added
        self.cycles = cycles  # the step-cycle problems


def _again(run: _Run, prev: _Positions, cur, ops):
    """The results of ``check`` by position, from the last check's (`prev`): only the
    positions whose operation changed, those checked each time, the workflows whose step
    targets changed and the operations whose flags were read from a script are checked."""
    pops = prev.ops
    changed = [i for i, (a, b) in enumerate(zip(ops, pops)) if a is not b]
    dirty = set(changed)
    dirty.update(prev.volatile)
    memo = run.memo
    shifted = prev.shifts != memo.shifts
    if shifted:
        # lines moved since: the problems of a node that did not move with them (see
        # ChunkCache.moved) are found again
        moved = memo.moved
        dirty.update(i for i, (r, op) in enumerate(zip(prev.res, ops))
                     if r[5] is not None and not moved(r[5], op.node))
    deps = prev.deps
    for i in changed:
        dirty.update(deps.get(id(pops[i]), ()))
    if run.gf.script_read:
        # flags read from a script this time (it may have appeared since): the operation,
        # and the workflows that run it, are not remembered
        where: Dict[int, List[int]] = {}
        for i, o in enumerate(ops):
            where.setdefault(id(o), []).append(i)
        for o in run.gf.script_read:
            dirty.update(where.get(id(o), ()))
            dirty.update(deps.get(id(o), ()))
    res = list(prev.res)
    volatile = []
    added = prev.added
    for i in sorted(dirty):
        model, op = cur[i]
        r = res[i] = run.one(model, op)
        added += _track(i, r, volatile, deps)
    if run.memo is not None:
        # the remembered records of the positions not checked again stay as they were
        records = dict(run.last)
        for i in changed:
            records.pop((id(pops[i]), cur[i][0].name), None)
        records.update(run.records)
        run.records = records
        run.memo.hits += len(ops) - len(dirty)
    # the step cycles: the same while every workflow has the same steps (the same targets,
    # by names, as `world` is the same) at the same places
    # (read when it was checked: a replaced operation is disposed of, Guildfile.dispose)
    cycles = prev.cycles
    if shifted or any(prev.res[i][4] != res[i][4] for i in changed):
        cycles = None  # (their places are not moved with the lines: _check_cycles)
    return res, volatile, deps, added, None if cycles is None else list(cycles)


def _track(i: int, r: tuple, volatile: List[int], deps: Dict[int, List[int]]) -> int:
    """Note what position `i`'s result `r` (_Run.one) depends on: checked again each time
    (`volatile`), or the positions of the workflows checked against each step target
    (`deps`, by the target's id). -> how many dependencies were added."""
    if r[3] is None:
        volatile.append(i)
        return 0
    for t, _status in r[3]:
        deps.setdefault(id(t), []).append(i)
    return len(r[3])


def _steps_seen(op: Operation):
    """What ``_find_cycles`` reads of an operation: None for no workflow, else each step's
    op spec, its place and whether it is the document's own."""
    if not op.is_workflow:
        return None
    return tuple((st.opspec, st.opspec_range, st.node.local) for st in op.steps)


def _static(op: Operation) -> tuple:
    """-> (is a workflow, the step targets to resolve, results may be remembered, is checked
    here: its key or its node is the document's own).

    The semantic problems of an operation are remembered (``check``) for the Operation
    object itself: the loader reuses one only for the same node (see model/chunks.py), so
    its own attributes, steps and references are the same; when lines were inserted or
    deleted above it, the problems move with the node (ChunkCache.anchor). They also
    depend on its model's openness, on the names of every model, operation and resource
    (the "world"), and for a workflow on the operations its steps resolve to (the same
    objects: reused, so built from unchanged nodes); all compared before a reuse. Flags
    taken in by `$include` or read from a script are checked each time. A check added to
    `_check_operation` that reads anything else of the document must be added there."""
    wf = op.is_workflow
    specs = tuple((st.opspec, _plain_target(st.opspec)) for st in op.steps
                  if st.opspec and "${" not in st.opspec) if wf else ()
    return (wf, specs, op.origin is None and op.flags_node is op.node.get("flags"),
            op.key.local or op.node.local)


def _plain_target(opspec: str) -> bool:
    """Is `opspec` an operation of the step's own model when it names one (see
    resolve_step_target: no model or package reference, no built-in optimizer)?"""
    return "/" not in opspec and ":" not in opspec and opspec not in BUILTIN_TARGETS


def _resolve_targets(gf: Guildfile, model: Model, specs) -> tuple:
    """``resolve_step_target`` of each (opspec, plain) of `specs`, as (target, status)."""
    get = model.operations.get
    out = []
    for spec, plain in specs:
        target = get(spec) if plain else None
        out.append((target, "ok") if target is not None else resolve_step_target(gf, model, spec))
    return tuple(out)


def _script_read(op: Operation) -> bool:
    """Were the operation's flags read from its script (model.import_script_flags)? The
    script may change while the guild file does not: such results are not remembered.
    (The reading marks the operation with `_script_flags_open`; it is the only place
    flags of origin "script" come from.)"""
    return getattr(op, "_script_flags_open", None) is not None


# ---------------------------------------------------------------------------------
def _check_operation(ctx: _Ctx, model: Model, op: Operation, refs=()):
    _check_refs(ctx, op, refs)
    _check_env(ctx, op)
    _check_requires(ctx, model, op)
    runchecks.check_operation(ctx.gf, model, op, ctx.add)
    if op.is_workflow:
        for st in op.steps:
            for p in st.problems:
                if st.node.local:
                    ctx.out.append(p)
            _check_step(ctx, model, op, st)
        runchecks.check_isolated_requires(ctx.gf, model, op, resolve_step_target, ctx.add)


def resolve_step_target(gf: Guildfile, model: Model, opspec: str):
    """-> (operation or None, status) where status is 'ok', 'unknown', 'external', 'error'."""
    if "/" in opspec:
        return None, "external"
    if opspec in BUILTIN_TARGETS or opspec.startswith("skopt:") or opspec.startswith("dvc.yaml:"):
        return None, "external"
    if ":" in opspec:
        mref, opname = opspec.split(":", 1)
        if not mref:
            return None, "bad-ref"
        models = gf.models_matching(mref)
        if not models:
            return None, "unknown-model"
        if len(models) > 1:
            return None, "ambiguous"
        target = models[0].operations.get(opname)
        if target is None:
            return None, ("external" if models[0].open else "unknown")
        return target, "ok"
    target = model.operations.get(opspec)
    if target is not None:
        return target, "ok"
    if model.open:
        return None, "external"
    if model.name == "":
        if opspec.endswith(PLUGIN_SUFFIXES):
            return None, "external"
        if gf.path and os.path.exists(os.path.join(gf.dir, opspec)):
            return None, "external"
    return None, "unknown"


def _check_step(ctx: _Ctx, model: Model, op: Operation, st: Step):
    gf = ctx.gf
    if not st.opspec or st.opspec_range is None or not st.node.local:
        return
    if "${" in st.opspec:
        return
    target, status = resolve_step_target(gf, model, st.opspec)
    rng = st.opspec_range
    if status in ("unknown", "unknown-model"):
        if status == "unknown-model":
            sugs = suggest(st.opspec, ctx.index.fullnames())
            msg = f"cannot find operation {st.opspec}"
        else:
            if ":" in st.opspec:
                mref, opname = st.opspec.split(":", 1)
                m = gf.models_matching(mref)[0]
                sugs = [f"{mref}:{s}" for s in suggest(opname, m.operations)]
                msg = f"operation '{opname}' is not defined for model '{m.name}'"
            else:
                sugs = suggest(st.opspec, model.operations, exclude=(op.name,))
                if model.name:
                    msg = f"operation '{st.opspec}' is not defined for model '{model.name}'"
                else:
                    msg = f"operation '{st.opspec}' is not defined for this project"
        ctx.add("unknown-operation", RUNTIME, msg + did_you_mean(sugs), rng, {"suggestions": sugs})
        return
    if status == "bad-ref":
        ctx.add("unknown-operation", RUNTIME,
                f"invalid reference: '{st.opspec}' (a step cannot name an operation of the anonymous model "
                f"this way; Guild stops the workflow with OpRefError; write '{st.opspec[1:]}')", rng)
        return
    if status == "ambiguous":
        mref = st.opspec.split(":", 1)[0]
        names = ", ".join(m.name for m in gf.models_matching(mref))
        ctx.add("unknown-operation", RUNTIME, f"there are multiple models that match '{mref}' ({names})", rng)
        return
    if target is None:
        return
    force = bool(st.options.get("force_flags"))
    for a in st.effective_assigns:
        flag = target.find_flag(a.name)
        if flag is None:
            if force or target.flags_open:
                continue
            sugs = suggest(a.name, target.flags)
            ctx.add("unknown-flag", RUNTIME,
                    f"unsupported flag '{a.name}' (operation '{target.fullname}' has "
                    + (f"flags {', '.join(sorted(target.flags))})" if target.flags else "no flags)")
                    + did_you_mean(sugs),
                    a.name_range, {"suggestions": sugs, "operation": target.fullname,
                                   "value": a.text if isinstance(a.text, str) else None})
            continue
        if force:
            continue
        msg = check_flag_value(flag, a.value, a.text)
        if msg is None and isinstance(a.text, str) and "${" in a.text:
            # Guild puts the workflow's flag values in, then the step re-reads the text
            val = runchecks.workflow_value(op, a.text)
            if val is not None:
                msg = check_flag_value(flag, val, fv.encode_flag_val(val) if not isinstance(val, str) else val)
                if msg:
                    msg += f" (with the default of workflow flag '{fv.refs_in(a.text)[0]}')"
        if msg:
            ctx.add("invalid-flag-value", RUNTIME, msg, a.value_range, _value_fix_data(flag))
    _check_step_batch(ctx, target, st)
    if not force and not st.batch_files:
        assigned = prefixes = None  # made for the first required flag (few flags are)
        for f in target.flags.values():
            # the cheap tests first
            if not f.required or f.default not in (None, ""):
                continue
            if assigned is None:
                assigned = {a.name for a in st.effective_assigns}
                # parent flags named `<opspec>:<flag>` or `<step name>:<flag>` are passed to the step
                prefixes = {p for p in (st.opspec, target.fullname, st.name) if p}
            if f.name in assigned or f.alias in assigned:
                continue
            if not any(op.find_flag(f"{p}:{f.name}") is not None for p in prefixes):
                ctx.add("missing-required-flag", WARNING,
                        f"operation '{target.fullname}' requires flag '{f.name}' and this step does not set it",
                        rng)


def _check_step_batch(ctx: _Ctx, target: Operation, st: Step) -> None:
    """Batch syntax of a step, with Guild's wording: bad flag functions, empty lists, an
    unknown optimizer, `--max-trials` where there is no batch or on a grid."""
    grid = 1
    search = False
    batch = bool(st.batch_files)
    for a in st.effective_assigns:
        text = a.text if isinstance(a.text, str) else a.value
        if isinstance(a.value, list):
            batch = True
            if not a.value:
                ctx.add("invalid-batch", RUNTIME,
                        f"{a.name}=[] is an empty list: the batch has no trials", a.value_range,
                        {"flag": a.name})
            grid *= max(1, len(a.value))
            continue
        if not isinstance(text, str) or "${" in text or bv.decode_function(text) is None:
            continue
        batch = True
        problem = bv.function_problem(text, a.name)
        if problem:
            ctx.add("invalid-batch", RUNTIME, problem, a.value_range, {"flag": a.name})
            continue
        expanded = bv.expand_sequence(text, a.name)
        if isinstance(expanded, list):
            grid *= max(1, len(expanded))
        else:
            search = True
    for f in target.flags.values():
        if isinstance(f.default, list) and f.attrs.get("arg-split") is None \
                and not any(a.name == f.name for a in st.effective_assigns):
            batch = True
            grid *= max(1, len(f.default))
    opt = st.options.get("optimizer")
    rng = st.opspec_range or st.range
    if isinstance(opt, str) and opt:
        batch = True
        if opt not in bv.OPTIMIZERS:
            hint = " (Guild's grid batch is '+')" if opt == "grid" else ""
            ctx.add("invalid-batch", RUNTIME,
                    f"operation '{opt}' is not defined for this project{hint}", rng)
        elif bv.OPTIMIZERS[opt] in bv.MODEL_BASED:
            ctx.add("invalid-batch", INFO,
                    f"the {opt} optimizer runs with Guild only: guildls' executor refuses it "
                    "(use --optimizer random)", rng)
        search = search or bv.OPTIMIZERS.get(opt) == "random"
    max_trials = st.options.get("max_trials")
    if max_trials in (None, "", 0, "0"):
        return
    if not batch:
        ctx.add("invalid-batch", RUNTIME, "not a batch run - ignoring --max-trials", rng)
        return
    try:
        n = int(max_trials)
    except (TypeError, ValueError):
        return
    if not search and n < grid:
        ctx.add("invalid-batch", INFO,
                f"--max-trials {n} on a grid of {grid} trials: Guild runs {n} of them, chosen "
                "at random (--random-seed fixes which)", rng)


def _value_fix_data(flag: Flag) -> dict:
    """What a quick fix needs: the flag's choices (when only those are accepted) and its
    default, as JSON values."""
    data: dict = {"flag": flag.name}
    if flag.choices and not flag.attrs.get("allow-other"):
        data["choices"] = [c for c in flag.choices if isinstance(c, (str, int, float, bool))][:50]
    if isinstance(flag.default, (str, int, float, bool)):
        data["default"] = flag.default
    return data


def _is_batch(value, text) -> bool:
    if isinstance(value, list):
        return True
    return fv.is_flag_function(text if isinstance(text, str) else value)


def check_flag_value(flag: Flag, value, text: Optional[str]) -> Optional[str]:
    """Guild's run-time value check for one step assignment (None when acceptable)."""
    if isinstance(text, str) and "${" in text:
        return None
    if isinstance(value, str) and "${" in value:
        return None
    if value is None or _is_batch(value, text):
        return None
    a = flag.attrs
    if a.keys().isdisjoint(_CHECKED_ATTRS):
        return None  # nothing Guild would check
    raw = text if text not in (None, "") else fv.encode_flag_val(value)
    vals = tuple(map(a.get, _CHECKED_ATTRS))
    types = tuple(map(type, vals))
    if _PLAIN_TYPES.issuperset(types):
        # scalars (most flags): their types keep 1, 1.0 and True apart, as freeze does
        key = (flag.name, raw, vals, types)
    else:
        frozen = tuple(map(freeze, vals))
        if None in frozen:  # too large or exotic to key on: no memo
            return fv.value_problem(raw, a, flag.name)
        key = (flag.name, raw, frozen)
    if key not in _VALUE_MEMO:
        if len(_VALUE_MEMO) > 20000:
            _VALUE_MEMO.clear()
        _VALUE_MEMO[key] = fv.value_problem(raw, a, flag.name)
    return _VALUE_MEMO[key]


# flag attributes that decide whether a value is accepted (same flags share results)
_CHECKED_ATTRS = ("type", "choices", "min", "max", "allow-other", "arg-split")
_PLAIN_TYPES = frozenset((str, int, float, bool, type(None)))
_VALUE_MEMO: dict = {}


# ---------------------------------------------------------------------------------
STEP_CONTEXTS = ("step", "step-flag", "step-option")


def _ref_name(raw: str, context: str) -> str:
    # `${name|filter}` filters exist for labels only; in steps the whole text is the name
    if context in STEP_CONTEXTS:
        return raw.strip()
    return raw.split("|", 1)[0].strip()


def _whole_words(text) -> set:
    if not isinstance(text, str):
        return set()
    words, _ = split_words(text)
    return {w.text for w in words}


def _check_refs(ctx: _Ctx, op: Operation, refs):
    words = None
    for ref in refs:
        name = _ref_name(ref.name, ref.context)
        if ref.context == "label" or not name:
            continue
        if ref.context in ("exec", "main") and name in WHOLE_WORD_NAMES:
            if words is None:
                words = _whole_words(op.exec if ref.context == "exec" else op.value("main"))
            if "${" + name + "}" not in words:
                ctx.add("undefined-reference", RUNTIME,
                        f"command contains invalid reference '{name}': Guild expands ${{{name}}} only as a "
                        "whole word of the command", ref.range, {"name": name, "operation": op.name})
            continue
        if op.flags_open:
            continue
        if op.find_flag(name) is not None:
            continue
        if ref.context == "exec" and name in EXEC_NAMES:
            continue
        if ref.context == "main" and name in MAIN_NAMES:
            continue
        sugs = suggest(name, op.flags)
        if ref.context in ("step", "step-flag", "step-option"):
            msg = (f"undefined reference '{name}': workflow '{op.fullname}' has no flag '{name}' "
                   "(Guild stops the workflow before any step runs)")
        else:
            msg = f"command contains invalid reference '{name}' (operation '{op.fullname}' has no flag '{name}')"
        ctx.add("undefined-reference", RUNTIME, msg + did_you_mean(sugs), ref.range,
                {"suggestions": sugs, "name": name, "operation": op.name})


def _check_env(ctx: _Ctx, op: Operation):
    """An env value that is exactly `${flag}` takes the flag's value as is; Guild fails
    (TypeError) when that is not text, e.g. `CUDA_VISIBLE_DEVICES: ${gpu}` with `gpu: 0`."""
    env = op.attr("env")
    if env is None or env.kind != MAP or op.flags_open:
        return
    for _k, v in env.items():
        if not v.local or v.kind != SCALAR or not isinstance(v.value, str):
            continue
        m = re.fullmatch(r"\$\{([^}|]+)\}", v.value.strip())
        if not m:
            continue
        flag = op.find_flag(m.group(1))
        if flag is None or flag.type in ("string", "path", "existing-path"):
            continue
        d = flag.default
        if isinstance(d, str) or flag.origin != "guildfile":
            continue
        if d is None:
            msg = (f"env value {v.value} is null unless '{flag.name}' is set when running: Guild only accepts "
                   "text in env and fails (TypeError) without a value")
        else:
            msg = (f"env value {v.value} is {fv.encode_flag_val(d)} ({type(d).__name__}) by default: Guild only "
                   f"accepts text in env and fails (TypeError); give '{flag.name}' a string default or type: string")
        ctx.add("invalid-flag-value", RUNTIME, msg, v.range, {"flag": flag.name})


def _op_matches(index: _Index, spec: str) -> Optional[bool]:
    """Does an `operation:` source spec match any operation? None = cannot tell. (Asked
    once per spec and check: several operations often require the same one.)"""
    if not isinstance(spec, str):
        return None
    known = index.spec_matches
    if spec in known:
        return known[spec]
    res = known[spec] = _spec_matches(index, spec)
    return res


def _spec_matches(index: _Index, spec: str) -> Optional[bool]:
    if "${" in spec or "/" in spec:
        return None
    alts = [a.strip() for a in spec.split(",") if a.strip()]
    alts = [a[:-2] if a.endswith("\\+") else a[:-1] if a.endswith("+") else a for a in alts]
    if any(a.endswith(PLUGIN_SUFFIXES) for a in alts):
        return None
    if not alts:
        return None
    for alt in alts:
        if ":" in alt:
            mref, opref = alt.split(":", 1)
        else:
            mref, opref = None, alt
        if mref and _REGEX_CHARS.search(mref):
            return None
        res = index.matches(mref, opref)
        if res is None:
            return None
        if res:
            return True
    return False


def _check_requires(ctx: _Ctx, model: Model, op: Operation):
    gf = ctx.gf
    if model.open:
        return
    for dep in op.requires:
        if not dep.node.local:
            continue
        for src in dep.operation_sources:
            ok = _op_matches(ctx.index, src.spec)
            if ok is False and src.spec_node is not None:
                names = ctx.index.sorted_names(":" in str(src.spec))
                sugs = suggest(str(src.spec), names)
                # Guild resolves operation sources against every run in GUILD_HOME, so a run of
                # another project's operation can satisfy it: say so, do not claim a failure.
                # close to one of this file's operations: most likely a typo -> a warning
                ctx.add("unknown-operation", WARNING if sugs else INFO,
                        f"no operation in this guild file matches '{src.spec}': only a run of '{src.spec}' from "
                        "another project can satisfy this dependency" + did_you_mean(sugs),
                        src.spec_node.range, {"suggestions": sugs})
        if dep.kind == "resource" and isinstance(dep.resource, str) and "${" not in dep.resource:
            spec = dep.resource
            if "/" in spec:
                continue
            if ":" in spec:
                mname, rname = spec.split(":", 1)
                tm = gf.models.get(mname)
                if tm is None:
                    ctx.add("unknown-resource", RUNTIME,
                            f"model '{mname}' in resource '{spec}' required by operation '{op.name}' is not defined",
                            _dep_range(dep))
                    continue
            else:
                tm, rname = model, spec
            if tm.open or rname in tm.resources:
                continue
            sugs = suggest(rname, tm.resources)
            ctx.add("unknown-resource", RUNTIME,
                    f"resource '{spec}' required by operation '{op.fullname}' is not defined" + did_you_mean(sugs),
                    _dep_range(dep), {"suggestions": sugs})


def _dep_range(dep):
    n = dep.node
    if n.kind != MAP:
        return n.range
    r = n.get("resource")
    return r.range if r is not None else n.range


# ---------------------------------------------------------------------------------
_CYCLES = object()  # the memo entry of the step cycles (one per document version)


def _check_cycles(gf: Guildfile, workflows, world) -> List[Problem]:
    """A workflow that reaches itself through its steps (directly or nested).
    `workflows`: the (model, operation) of every workflow, in document order; `world`: see
    ``check`` (None when the document has no chunk memo)."""
    memo = gf.chunks if world is not None else None
    if memo is None:
        return _find_cycles(gf, workflows)
    # Only workflows take part in a cycle: the result depends on the names of every model
    # and operation (`world`, what the steps resolve to) and on the workflows themselves.
    # The same Operation objects (reused by the loader for unchanged nodes, kept alive by
    # the entry) have the same steps, so the same cycles; at the same lines, the same places.
    key = ("step-cycles", world, tuple((id(op), op.node.sl) for _m, op in workflows))
    hit = memo.recall(key, _CYCLES)
    if hit is not None:
        return list(hit[0])
    out = _find_cycles(gf, workflows)
    memo.remember(key, _CYCLES, (out, workflows))
    return list(out)


def _find_cycles(gf: Guildfile, workflows) -> List[Problem]:
    edges: Dict[int, List[Tuple[Operation, Step]]] = {}
    # the depth-first searches start from the workflows in document order, and follow
    # the steps that run a workflow: only workflows have steps, so only they make a cycle
    ops: Dict[int, Operation] = {id(op): op for _model, op in workflows}
    for model, op in workflows:
        lst = edges.setdefault(id(op), [])
        for st in op.steps:
            if not st.opspec:
                continue
            target = resolve_step_target(gf, model, st.opspec)[0]
            if target is not None and id(target) in ops:
                lst.append((target, st))
    out: List[Problem] = []
    reported = set()
    state: Dict[int, int] = {}  # 1 = on the current path, 2 = done
    for oid, root in ops.items():
        if oid in state or oid not in edges:
            continue
        # iterative depth-first search (workflows may nest deeper than Python's stack)
        path: List[Operation] = [root]
        iters = [iter(edges.get(oid, ()))]
        state[oid] = 1
        while iters:
            nxt = next(iters[-1], None)
            if nxt is None:
                iters.pop()
                state[id(path.pop())] = 2
                continue
            target, st = nxt
            s_ = state.get(id(target))
            if s_ == 1:
                ids = [id(o) for o in path]
                cyc = path[ids.index(id(target)):] + [target]
                names = [o.fullname for o in cyc]
                if len(names) > 8:
                    names = names[:3] + [f"... ({len(cyc) - 1} workflows) ..."] + names[-3:]
                chain = " -> ".join(names)
                key = (st.opspec_range, chain)
                if st.node.local and st.opspec_range is not None and key not in reported:
                    reported.add(key)
                    out.append(Problem("step-cycle", RUNTIME,
                                       f"step cycle: {chain} (the workflow would run itself forever)",
                                       st.opspec_range))
            elif s_ is None:
                state[id(target)] = 1
                path.append(target)
                iters.append(iter(edges.get(id(target), ())))
    return out
