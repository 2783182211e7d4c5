"""Reading runs as `guild runs` / `guild compare` show them: one JSON-ready dict per run.

Works on runs written by guildls and by real Guild (0.9): attributes under `.guild/attrs`,
`opref`, status markers (`LOCK`, `LOCK.remote`, `PENDING`, `STAGED`), workflow step links
(`<run>/<step name> -> ../<step id>`), batch trial links (`<batch>/<trial id> -> ../<trial id>`,
with the batch's prototype in `.guild/proto`) and TensorBoard event files.

Nothing in a runs directory crashes the reader: a directory without `.guild/opref` is not a run
(Guild skips it too) and is skipped with a logged reason; an unreadable attribute reads as
missing and is named in the run's `problems` list.

Finished runs are cached per process by the modification times of the run directory, its
`.guild/` and `.guild/attrs/` (every attribute write is a rename, which touches the directory),
so listing the same runs again costs three stats per run.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from datetime import datetime, timezone
from typing import Any, Iterable, Optional

from .layout import decode_opref
from .status import pid_alive, status_for_exit
from . import tfevents

log = logging.getLogger("guildls.runs")

RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_INT = re.compile(r"^-?[0-9]+$")
_cache: dict = {}
_cache_lock = threading.Lock()
_skipped_logged: set = set()


def _attr(attrs_dir: str, name: str, problems: list) -> Any:
    try:
        with open(os.path.join(attrs_dir, name), "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        problems.append(f"{name}: {e.strerror or e}")
        return None
    text = raw.decode("utf-8", "replace").strip()
    if _INT.match(text):
        return int(text)
    import yaml  # here: a listing served from the cache file reads no attributes

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as e:
        problems.append(f"{name}: not valid YAML ({str(e).splitlines()[0]})")
        return None


def _iso(ts: Any) -> Optional[str]:
    if not isinstance(ts, int) or isinstance(ts, bool) or ts <= 0:
        return None
    try:
        return datetime.fromtimestamp(ts / 1e6, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return None


def _run_links(run_dir: str, runs_root: str) -> list[tuple[str, str]]:
    """(link name, run id) of links in a run's top directory that point at sibling runs."""
    out = []
    try:
        entries = list(os.scandir(run_dir))
    except OSError:
        return out
    for e in entries:
        if not e.is_symlink():
            continue
        try:
            target = os.readlink(e.path)
        except OSError:
            continue
        full = os.path.normpath(os.path.join(run_dir, target))
        rid = os.path.basename(full)
        if RUN_ID.match(rid) and os.path.dirname(full) == runs_root:
            out.append((e.name, rid))
    return out


def _status(guild_dir: str, exit_status: Any) -> str:
    if os.path.exists(os.path.join(guild_dir, "LOCK.remote")):
        return "running"
    if os.path.exists(os.path.join(guild_dir, "PENDING")):
        return "pending"
    if os.path.exists(os.path.join(guild_dir, "STAGED")):
        return "staged"
    if isinstance(exit_status, int) and not isinstance(exit_status, bool):
        return status_for_exit(exit_status)
    try:
        with open(os.path.join(guild_dir, "LOCK")) as f:
            pid = int(f.read(10))
    except (OSError, ValueError):
        return "error"
    return "running" if pid_alive(pid) else "error"


def _base_op(opref: Optional[dict]) -> str:
    if not opref:
        return ""
    op, model, kind = opref.get("op", ""), opref.get("model", ""), opref.get("pkg_type")
    if kind == "package":
        return f"{opref.get('pkg_name')}/{model + ':' if model else ''}{op}"
    if kind == "func":
        return f"{op}()"
    return f"{model}:{op}" if model else op


def operation_name(opref: Optional[dict], proto_opref: Optional[dict] = None) -> str:
    """The operation as `guild runs` shows it (Guild 0.9's run_util.format_operation): `op`,
    `model:op`, `pkg/model:op`; a batch run is its prototype's operation + its own (`train+`,
    `train+random`)."""
    base = _base_op(opref)
    if proto_opref is None:
        return base
    return _base_op(proto_opref) + ("" if base.startswith("+") else "+") + base


def _read_opref(guild_dir: str) -> Optional[str]:
    try:
        with open(os.path.join(guild_dir, "opref"), encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def _stamp(run_dir: str) -> Optional[tuple]:
    stat = os.stat
    g = run_dir + _GUILD  # not os.path.join: three thousand joins cost as much as the stats
    try:
        return (stat(run_dir).st_mtime_ns, stat(g).st_mtime_ns, stat(g + _ATTRS).st_mtime_ns)
    except OSError:
        return None


_GUILD = os.sep + ".guild"
_ATTRS = os.sep + "attrs"


def read_run(run_dir: str, *, scalars: bool = True) -> Optional[dict]:
    """The run record of one run directory (without parent/steps/trials, see list_runs), or
    None when the directory is not a run."""
    got = _read_cached(os.path.abspath(run_dir), scalars)
    return got[0] if got is not None else None


def _read_cached(run_dir: str, scalars: bool) -> Optional[tuple]:
    """(record, links to sibling runs), from the cache while the run's directories are
    unchanged; finished runs only are cached."""
    stamp = _stamp(run_dir)
    with _cache_lock:
        hit = _cache.get(run_dir)
    if hit is not None and stamp is not None and hit[0] == stamp and (hit[2] or not scalars):
        return hit[1], hit[3]
    rec = _read_run(run_dir, scalars)
    if rec is None:
        return None
    links = _run_links(run_dir, os.path.dirname(run_dir))
    if stamp is not None and rec["status"] not in ("running", "pending", "staged"):
        with _cache_lock:
            _cache[run_dir] = (stamp, rec, scalars, links)
            _dirty.add(os.path.dirname(run_dir))
    return rec, links


# -- the cache kept between processes -------------------------------------------------------
# `<guild home>/cache/guildls-runs.json` (Guild keeps its own index in that folder): the
# records of finished runs with the stamps they were read at, so a fresh `guildls runs` costs
# three stats per unchanged run. Written atomically; unreadable or foreign content is ignored.

CACHE_VERSION = 1
_dirty: set = set()
_loaded: set = set()


def cache_path(runs_root: str) -> str:
    return os.path.join(os.path.dirname(runs_root), "cache", "guildls-runs.json")


def _load_disk_cache(runs_root: str) -> None:
    if runs_root in _loaded:
        return
    _loaded.add(runs_root)
    import json

    try:
        with open(cache_path(runs_root), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        return
    entries = data.get("runs")
    if not isinstance(entries, dict):
        return
    with _cache_lock:
        for rid, e in entries.items():
            try:
                run_dir = os.path.join(runs_root, rid)
                if run_dir in _cache or not RUN_ID.match(rid):
                    continue
                _cache[run_dir] = (tuple(e["stamp"]), e["rec"], bool(e["scalars"]),
                                   [tuple(x) for x in e["links"]])
            except (KeyError, TypeError, ValueError):
                continue


def _save_disk_cache(runs_root: str, ids: set) -> None:
    if runs_root not in _dirty:
        return
    _dirty.discard(runs_root)
    import json

    prefix = runs_root + os.sep
    with _cache_lock:
        entries = {d[len(prefix):]: {"stamp": list(v[0]), "rec": v[1], "scalars": v[2],
                                     "links": [list(x) for x in v[3]]}
                   for d, v in _cache.items() if d.startswith(prefix) and d[len(prefix):] in ids}
    path = cache_path(runs_root)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        from .layout import atomic_write

        atomic_write(path, json.dumps({"version": CACHE_VERSION, "runs": entries}, separators=(",", ":")))
    except OSError as e:
        log.debug("run cache not written to %s: %s", path, e)


def _read_run(run_dir: str, scalars: bool) -> Optional[dict]:
    guild_dir = os.path.join(run_dir, ".guild")
    opref_text = _read_opref(guild_dir)
    if opref_text is None:
        return None
    problems: list = []
    opref = decode_opref(opref_text)
    if opref is None:
        problems.append("opref: not a Guild operation reference")
    proto_text = _read_opref(os.path.join(guild_dir, "proto", ".guild"))
    proto = decode_opref(proto_text) if proto_text is not None else None
    attrs = os.path.join(guild_dir, "attrs")
    run_id = os.path.basename(run_dir)
    started = _attr(attrs, "started", problems)
    stopped = _attr(attrs, "stopped", problems)
    initialized = _attr(attrs, "initialized", problems)
    exit_status = _attr(attrs, "exit_status", problems)
    if isinstance(exit_status, bool) or not isinstance(exit_status, (int, type(None))):
        problems.append("exit_status: not a number")
        exit_status = None
    status = _status(guild_dir, exit_status)
    flags = _attr(attrs, "flags", problems)
    if not isinstance(flags, dict):
        if flags is not None:
            problems.append("flags: not a mapping")
        flags = {}
    label = _attr(attrs, "label", problems)
    tags = _attr(attrs, "tags", problems)
    if not isinstance(tags, list):
        tags = []
    steps_attr = _attr(attrs, "steps", problems)
    t0 = started if isinstance(started, int) else None
    t1 = stopped if isinstance(stopped, int) else None
    duration = None
    if t0 is not None:
        if t1 is not None:
            duration = round(max(0, t1 - t0) / 1e6, 3)
        elif status == "running":
            duration = round(max(0.0, time.time() - t0 / 1e6), 3)
    guildfile = project = None
    for o in (opref, proto):  # a batch run belongs to its prototype's guild file
        if o and o.get("pkg_type") == "guildfile" and o.get("pkg_name"):
            guildfile = o["pkg_name"]
            project = os.path.dirname(guildfile)
            break
    sc: dict = {}
    if scalars:  # the run's own; scan() adds those of linked runs (a workflow's steps)
        sc = tfevents.last_values(tfevents.run_series(run_dir, tfevents.own_event_dirs(run_dir)))
    is_batch = proto is not None or os.path.isdir(os.path.join(guild_dir, "proto"))
    rec = {
        "id": run_id,
        "short_id": run_id[:8],
        "operation": operation_name(opref, proto),
        "model": (opref or {}).get("model", ""),
        "op_name": (opref or {}).get("op", ""),
        "status": status,
        "started": _iso(started),
        "stopped": _iso(stopped),
        "duration": duration,
        "label": label if label is None else str(label),
        "tags": [str(t) for t in tags],
        "flags": {str(k): v for k, v in flags.items()},
        "exit_status": exit_status,
        "kind": "batch" if is_batch else ("workflow" if steps_attr is not None else "run"),
        "parent": None,
        "steps": [],
        "trials": [],
        "scalars": sc,
        "dir": run_dir,
        "project": project,
        "guildfile": guildfile,
        # extras (not in the contract's minimum)
        "timestamp": started if isinstance(started, int) else (initialized if isinstance(initialized, int) else 0),
        "problems": problems,
    }
    return rec


def scan(runs_root: str, *, scalars: bool = True, persistent: bool = True) -> list[dict]:
    """Every run under a runs directory, linked up (parent/steps/trials, kind), newest first
    (by started, else initialized time, as `guild runs`); fresh dicts, the caller's to change
    (their nested values are shared with the cache). `persistent`: use and update the cache
    file in the guild home."""
    runs_root = os.path.abspath(runs_root)
    try:
        names = os.listdir(runs_root)
    except OSError:
        return []
    if persistent:
        _load_disk_cache(runs_root)
    recs: dict = {}
    links: dict = {}
    for name in names:
        path = os.path.join(runs_root, name)
        if not RUN_ID.match(name):
            if not name.startswith(".") and path not in _skipped_logged:
                _skipped_logged.add(path)
                log.info("skipping %s in the runs directory: not a run id", path)
            continue
        try:
            got = _read_cached(path, scalars)
        except Exception as e:  # never let one strange run break a listing
            log.warning("skipping run %s: %s: %s", path, type(e).__name__, e)
            continue
        if got is None:
            if path not in _skipped_logged:
                _skipped_logged.add(path)
                log.info("skipping %s: no .guild/opref (not a run, or still being created)", path)
            continue
        rec, links[name] = got
        recs[name] = dict(rec, steps=[], trials=[], parent=None)
    if persistent:
        _save_disk_cache(runs_root, set(recs))
    merged: set = set()

    def merge_scalars(rid: str, stack: tuple = ()) -> dict:
        """A run's scalars with its linked runs' (depth first, own first), as Guild's scan."""
        rec = recs[rid]
        if rid in merged or rid in stack:
            return rec["scalars"]
        sc = dict(rec["scalars"])
        for _, k in links[rid]:
            if k in recs and k != rid:
                for tag, v in merge_scalars(k, stack + (rid,)).items():
                    sc.setdefault(tag, v)
        rec["scalars"] = sc
        merged.add(rid)
        return sc

    if scalars:
        for rid in recs:
            if links[rid]:
                merge_scalars(rid)
    for rid, rec in recs.items():
        kids = [k for _, k in links[rid] if k in recs and k != rid]
        if not kids:
            continue
        if rec["kind"] == "batch":
            rec["trials"] = sorted(kids, key=lambda k: recs[k]["timestamp"])
            child_kind = "trial"
        else:
            rec["kind"] = "workflow"
            rec["steps"] = sorted(kids, key=lambda k: recs[k]["timestamp"])
            child_kind = "step"
        for k in kids:
            recs[k]["parent"] = rid
            if recs[k]["kind"] == "run":
                recs[k]["kind"] = child_kind
    return sorted(recs.values(), key=lambda r: (r["timestamp"], r["id"]), reverse=True)


# -- filters -------------------------------------------------------------------------------

FILTER_HELP = """FILTER: `KEY=VALUE` (a flag's value), `status:S`, `op:TEXT` (part of the operation),
`label:TEXT`, `tag:T`, `kind:K`, `id:PREFIX`; anything else matches the start of the run id or
part of the operation or label. All filters must match."""


def _flag_text(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


def matches(rec: dict, filters: Iterable[str]) -> bool:
    for f in filters:
        if not _matches(rec, f):
            return False
    return True


def _matches(rec: dict, f: str) -> bool:
    key, sep, val = f.partition(":")
    if sep and key in ("status", "op", "label", "tag", "kind", "id"):
        if key == "status":
            return rec["status"] == val
        if key == "op":
            return val in rec["operation"]
        if key == "label":
            return val in (rec["label"] or "")
        if key == "tag":
            return val in rec["tags"]
        if key == "kind":
            return rec["kind"] == val
        return rec["id"].startswith(val)
    name, eq, val = f.partition("=")
    if eq and name in rec["flags"]:
        v = rec["flags"][name]
        if _flag_text(v) == val or str(v) == val:
            return True
        try:
            return float(v) == float(val)
        except (TypeError, ValueError):
            return False
    if eq:
        return False
    return rec["id"].startswith(f) or f in rec["operation"] or f in (rec["label"] or "")


def public(rec: dict) -> dict:
    """A run record without the internal sort key."""
    out = rec.copy()
    del out["timestamp"]
    return out
