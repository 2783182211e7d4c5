"""Run-time failures the file already shows (warnings: Guild loads the file, the run fails).

Each check states what real Guild 0.9.0 does when the operation runs (recorded by
tests/oracle/test_guild_runtime.py) and quotes its words. Pure functions of the model;
``add(code, severity, message, range, data=None)`` receives the problems.
"""

from __future__ import annotations

import os
import re
from typing import Callable, Optional

from ..model import WARNING, Guildfile, Model, Operation, Step
from ..model import flagvals as fv
from ..model.nodes import MAP, SCALAR, SEQ, Node

Add = Callable[..., None]

# guild/opref.py: `[[PKG/]MODEL:]OP` (re.match); `foo/bar` is not a reference
_OPREF_RE = re.compile(r"(?:(?:([^/]+)/)?([^:]+):)?([^/:]+)$")
_DEP_FAILS = "Guild fails resolving this dependency when the operation runs"


def check_operation(gf: Guildfile, model: Model, op: Operation, add: Add) -> None:
    _check_exec(op, add)
    for dep in op.requires:
        if not dep.node.local:
            continue
        for src in dep.sources:
            check_source(src, add, op)


def _check_exec(op: Operation, add: Add) -> None:
    node = op.node.get("exec")
    if node is None or not node.local or node.kind != SCALAR or node.value != "":
        return
    if op.node.get("main") is not None and op.main or op.steps:
        return
    add("invalid-operation", WARNING,
        f"invalid definition for operation '{op.name}': must define either exec, main, or steps "
        "(Guild fails when the operation runs: `exec` is empty)", node.range)


def check_source(src, add: Add, op: Optional[Operation] = None) -> None:
    """One dependency source: references, target path and type, operation reference.

    ``op`` is the operation whose flags resolve ``${name}`` (None for a named resource,
    whose references depend on the operation that requires it)."""
    node = src.node
    if node.kind != MAP or not node.local:
        return
    if src.kind == "operation" and isinstance(src.spec, str) and "${" not in src.spec:
        for spec in (p.strip() for p in src.spec.split(",")):
            if not _OPREF_RE.match(spec):
                add("invalid-source", WARNING,
                    f"invalid operation reference '{spec}' (write [[PACKAGE/]MODEL:]OPERATION): {_DEP_FAILS} "
                    f"('inavlid operation reference {spec!r}', sic)", src.spec_node.range)
                break
    for attr in ("target-path", "path"):
        tp = node.get(attr)
        if tp is not None and tp.kind == SCALAR and isinstance(tp.value, str) and "${" not in tp.value \
                and os.path.isabs(tp.value):
            add("invalid-source", WARNING,
                f"invalid path '{tp.value}' (path must be relative to the run directory): {_DEP_FAILS}", tp.range)
    tt = node.get("target-type")
    if tt is not None and tt.kind == SCALAR and isinstance(tt.value, str) and tt.value not in ("link", "copy"):
        add("invalid-source", WARNING,
            f"unsupported target-type '{tt.value}' (expected 'link' or 'copy'): {_DEP_FAILS}", tt.range)
    if op is None or op.flags_open:
        return
    if src.kind == "file" and src.spec_node is not None:
        _undefined_refs(op, src.spec_node, "file", add)
    rn = node.get("rename")
    if rn is not None:
        for spec in (rn.value if rn.kind == SEQ else [rn]):
            for part in (spec.value if spec.kind == MAP else [(None, spec)]):
                _undefined_refs(op, part[1], "rename", add)


def _undefined_refs(op: Operation, node: Node, where: str, add: Add) -> None:
    if node.kind != SCALAR or not isinstance(node.value, str) or not node.local:
        return
    for name in fv.refs_in(node.value):
        if op.find_flag(name) is None:
            add("undefined-reference", WARNING,
                f"undefined reference '{name}' in this dependency's {where} (operation '{op.fullname}' has no "
                f"flag '{name}'): {_DEP_FAILS}", node.range, {"name": name, "operation": op.name})
            return


# ---------------------------------------------------------------------------------
# workflows


def workflow_value(op: Operation, text: str):
    """A step flag text with the workflow's `${flag}` defaults put in, as Guild passes it
    to the step (None when a reference has no default to know it by)."""
    kv = {}
    for name in fv.refs_in(text):
        f = op.find_flag(name)
        if f is None or f.default is None or f.origin != "guildfile":
            return None
        kv[name] = f.default
    try:
        val = fv.resolve_refs(text, kv)
    except (fv.UndefinedReferenceError, fv.ReferenceCycleError):
        return None
    return val


def check_isolated_requires(gf: Guildfile, model: Model, op: Operation, resolve, add: Add) -> None:
    """An isolated step (the default) sees only runs linked from its workflow's run: an
    operation it requires must be run by an earlier step of the same workflow.

    ``resolve(model, opspec) -> (operation or None, status)`` finds a step's operation.
    """
    earlier = set()
    for st in op.steps:
        if not st.opspec or "${" in st.opspec:
            return  # cannot know what ran: stay silent from here on
        target, status = resolve(gf, model, st.opspec)
        if target is None:
            return
        if st.isolate_runs and st.node.local and st.opspec_range is not None:
            missing = _unmet(target, earlier, st)
            if missing:
                add("unresolved-dependency", WARNING,
                    f"step '{st.display_name}' requires operation '{missing}' but no earlier step of this workflow "
                    f"runs it: an isolated step only sees runs of its workflow, so Guild fails with \"no suitable "
                    f"run for {missing}\" (run '{missing}' in an earlier step, or set `isolate-runs: no`)",
                    st.opspec_range, {"operation": missing})
        earlier.add(target.name)
        earlier.add(target.fullname)


_PATTERN_CHARS = re.compile(r"[\\^$.|?*+()\[\]{}]")  # a spec with one is a pattern: not checked


def _unmet(target: Operation, earlier: set, st: Step) -> Optional[str]:
    if target.steps or target.model.open:
        return None
    assigned = None
    for dep in target.requires:
        for src in dep.operation_sources:
            spec = src.spec
            if not isinstance(spec, str) or "${" in spec or "/" in spec:
                continue
            if _PATTERN_CHARS.search(spec) or "," in spec:
                continue
            if assigned is None:
                assigned = {a.name for a in st.effective_assigns}
            flag_names = {f.name for f in target.flags.values() if f.origin == "resource" and f.value is src.spec_node}
            if assigned & (flag_names | {f"operation:{spec}", str(src.attrs.get("name"))}):
                continue  # the step names the run to use
            opname = spec.split(":", 1)[1] if ":" in spec else spec
            if spec not in earlier and opname not in earlier:
                return spec
    return None
