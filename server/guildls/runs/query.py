"""What the command line and the language server ask of runs: listing, selecting, comparing,
scalar series, recorded output, labels, deletion. Pure functions over runs directories."""

from __future__ import annotations

import os
from typing import Iterable, Optional

from . import reader, tfevents
from .layout import Run

OUTPUT_LIMIT = 2_000_000  # characters of recorded output returned at most (the end is kept)


class RunSelectError(ValueError):
    pass


def list_runs(runs_roots: Iterable[str], filters: Iterable[str] = (), *,
              scalars: bool = True) -> list[dict]:
    """Runs of one or more runs directories, newest first, as public run records."""
    filters = list(filters)
    recs: list = []
    seen: set = set()
    for root in runs_roots:
        root = os.path.abspath(root)
        if root in seen:
            continue
        seen.add(root)
        recs.extend(reader.scan(root, scalars=scalars))
    if len(seen) > 1:
        recs.sort(key=lambda r: (r["timestamp"], r["id"]), reverse=True)
    # scan() returns fresh dicts: drop the internal sort key in place rather than copy 1,000 runs
    out = [r for r in recs if reader.matches(r, filters)]
    for r in out:
        r.pop("timestamp", None)
    return out


def select(runs: list[dict], specs: Iterable[str]) -> list[dict]:
    """Runs named by id prefixes or 1-based indexes of the newest-first listing (like `guild
    runs rm 1`); RunSelectError names the spec that matches none or several."""
    out: list = []
    for spec in specs:
        spec = str(spec).strip()
        if not spec:
            raise RunSelectError("empty run id")
        if spec.isdigit() and len(spec) < 8:
            i = int(spec)
            if not 1 <= i <= len(runs):
                raise RunSelectError(f"there is no run {spec} (have {len(runs)})")
            found = [runs[i - 1]]
        else:
            found = [r for r in runs if r["id"].startswith(spec.lower())]
            if not found:
                raise RunSelectError(f"no run matches '{spec}'")
            if len(found) > 1:
                raise RunSelectError(f"'{spec}' matches {len(found)} runs: "
                                     + ", ".join(r["short_id"] for r in found[:5]))
        for r in found:
            if r not in out:
                out.append(r)
    return out


# -- compare ---------------------------------------------------------------------------------

BASE_COLUMNS = ["run", "operation", "started", "time", "status", "label"]


def compare_columns(runs: list[dict]) -> list[str]:
    """Columns as `guild compare --table` orders them: the base columns, then for each run in
    order its flags (sorted), `step` and its scalar keys, each column where first seen."""
    cols = list(BASE_COLUMNS)
    seen = set(cols)
    for r in runs:
        mine = sorted(r["flags"])
        if r["scalars"]:
            mine += ["step"] + sorted(r["scalars"])
        for c in mine:
            if c not in seen:
                seen.add(c)
                cols.append(c)
    return cols


def _run_step(r: dict):
    steps = [s["step"] for s in r["scalars"].values()]
    return max(steps) if steps else None


# compare columns read straight off the run object
_RUN_FIELDS = {"run": "short_id", "operation": "operation", "started": "started",
               "time": "duration", "status": "status", "label": "label"}


def compare_row(r: dict, columns: list[str]) -> dict:
    """{column: value} of one run; None where the run has no such flag or scalar. Flags win
    over scalars of the same name, as in Guild."""
    row: dict = {}
    for c in columns:
        if c in _RUN_FIELDS:
            row[c] = r[_RUN_FIELDS[c]]
        elif c == "step":
            row[c] = _run_step(r)
        elif c in r["flags"]:
            row[c] = r["flags"][c]
        elif c in r["scalars"]:
            row[c] = r["scalars"][c]["last"]
        else:
            row[c] = None
    return row


# -- scalars, output, label, delete ----------------------------------------------------------

def scalar_series(runs: list[dict], keys: Optional[Iterable[str]] = None) -> dict:
    """{run id: {key: [[step, value], ...]}} for the given runs."""
    want = set(keys) if keys else None
    out: dict = {}
    for r in runs:
        series = tfevents.run_series(r["dir"])
        out[r["id"]] = {k: [[s, v] for s, v in pts] for k, pts in series.items()
                        if want is None or k in want}
    return out


def run_output(r: dict, limit: int = OUTPUT_LIMIT) -> dict:
    """The run's recorded output (`.guild/output`, what `guild cat --output` shows); the last
    `limit` characters when longer."""
    text = Run(r["id"], r["dir"]).read_output()
    truncated = len(text) > limit
    if truncated:
        text = text[-limit:]
    return {"id": r["id"], "text": text, "truncated": truncated}


def label_run(r: dict, label: Optional[str]) -> dict:
    from .records import set_label

    set_label(Run(r["id"], r["dir"]), label)
    for x in reader.scan(os.path.dirname(r["dir"])):
        if x["id"] == r["id"]:
            return reader.public(x)
    return r


def delete_runs(runs: list[dict]) -> list[str]:
    from .records import delete_run

    deleted = []
    for r in runs:
        delete_run(os.path.dirname(r["dir"]), r["id"])
        deleted.append(r["id"])
    return deleted


# -- last run, for code lenses ----------------------------------------------------------------

PREFERRED_SCALARS = ("accuracy", "acc", "val_accuracy", "loss", "val_loss")


def with_scalars(r: dict) -> dict:
    """A run record listed with scalars=False, with its scalars (a workflow's include its
    steps', as in listings)."""
    return dict(r, scalars=tfevents.last_values(tfevents.run_series(r["dir"])))


def _ago(seconds: float) -> str:
    s = max(0, int(seconds))
    if s < 60:
        return "just now"
    if s < 3600:
        return f"{s // 60} min ago"
    if s < 86400:
        return f"{s // 3600} h ago"
    return f"{s // 86400} d ago"


def _fmt(v: float) -> str:
    return f"{v:.2f}" if v == 0 or 0.01 <= abs(v) < 1e6 else f"{v:.3g}"


def run_summary(r: dict, now: float) -> str:
    """`✓ 2 min ago · accuracy 1.00`, `✗ failed 1 h ago`, `● running 3 min`."""
    from datetime import datetime, timezone

    def ts(iso):
        return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp() if iso else None

    when = ts(r["stopped"]) or ts(r["started"])
    ago = _ago(now - when) if when else ""
    st = r["status"]
    if st == "running":
        return f"● running{' since ' + ago.replace(' ago', '') if ago and ago != 'just now' else ''}"
    if st == "completed":
        text = f"✓ {ago}".rstrip()
    elif st == "terminated":
        text = f"■ stopped {ago}".rstrip()
    elif st in ("pending", "staged"):
        return f"… {st}"
    else:
        text = f"✗ failed {ago}".rstrip()
    sc = r.get("scalars") or {}
    key = next((k for k in PREFERRED_SCALARS if k in sc), None) or (sorted(sc)[0] if sc else None)
    if key is not None and st == "completed":
        try:
            text += f" · {key} {_fmt(float(sc[key]['last']))}"
        except (TypeError, ValueError):
            pass
    return text
