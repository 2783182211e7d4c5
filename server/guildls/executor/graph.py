"""The workflow graph of a plan (pure): steps as nodes, nested workflows as groups, `order`
edges between consecutive steps of a workflow and `requires` edges from the step whose run a
step will use (through `requires: operation:`) to that step; a required operation no earlier
step of the workflow runs becomes a `dependency` node (an existing run is used).

Node ids are `step-<k>`, k counting steps depth-first from 1 in plan order — the `index` the
runner's `step-started` events carry, so live step status maps onto the same nodes.
"""

from __future__ import annotations

import re
from typing import Optional


def _matches(spec: str, step, consumer) -> bool:
    """Whether `step` runs the operation a `requires: operation:` spec names (Guild's rule:
    alternatives split by commas, `model:op` or `op` in the consumer's model, op a regex)."""
    model = getattr(getattr(step.operation, "model", None), "name", "") or ""
    op = getattr(step.operation, "name", "")
    cmodel = getattr(getattr(consumer.operation, "model", None), "name", "") or ""
    for alt in (a.strip() for a in str(spec).split(",")):
        if not alt:
            continue
        m, _, name = alt.rpartition(":") if ":" in alt else (cmodel, "", alt)
        try:
            if m == model and re.fullmatch(name, op):
                return True
        except re.error:
            if m == model and name == op:
                return True
    return False


def _step_line(parent, step) -> Optional[tuple]:
    """(line, file) of the step item in its workflow's `steps` list, else the operation's key."""
    seq = getattr(parent.operation, "steps_node", None) if parent is not None else None
    items = getattr(seq, "value", None) if seq is not None else None
    node = None
    if isinstance(items, list) and step.index is not None and step.index < len(items):
        node = items[step.index]
    if node is None:
        node = getattr(step.operation, "key", None)
    if node is None:
        return None
    return node.sl, getattr(node, "src", None)


def workflow_graph(plan, path: Optional[str]) -> dict:
    nodes: list = []
    edges: list = []
    counter = [0]
    dep_nodes: dict = {}

    def visit(wf, group: Optional[str]) -> None:
        earlier: list = []  # (PlanStep, node id) of this workflow's steps so far
        prev = None
        for step in wf.steps:
            counter[0] += 1
            nid = f"step-{counter[0]}"
            where = _step_line(wf, step)
            kind = "workflow" if step.kind == "steps" else "step"
            nodes.append({"id": nid, "label": step.name, "operation": step.opspec, "kind": kind,
                          "parent": group, "file": (where[1] if where and where[1] else path),
                          "line": where[0] if where else None})
            if prev is not None:
                edges.append({"from": prev, "to": nid, "kind": "order"})
            prev = nid
            for _res, sources in step.deps or []:
                for _sname, _attrs, src in sources:
                    if getattr(src, "kind", None) != "operation":
                        continue
                    spec = str(src.spec)
                    provider = None
                    for s, sid in reversed(earlier):
                        if s.kind != "steps" and _matches(spec, s, step):
                            provider = sid
                            break
                    if provider is None:
                        key = (group, spec)
                        provider = dep_nodes.get(key)
                        if provider is None:
                            provider = f"dep-{len(dep_nodes) + 1}"
                            dep_nodes[key] = provider
                            nodes.append({"id": provider, "label": spec, "operation": spec,
                                          "kind": "dependency", "parent": group,
                                          "file": path, "line": None})
                    edges.append({"from": provider, "to": nid, "kind": "requires"})
            earlier.append((step, nid))
            if step.kind == "steps":
                visit(step, nid)

    visit(plan, None)
    return {"operation": plan.opspec, "nodes": nodes, "edges": edges}
