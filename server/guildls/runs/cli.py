"""`guildls runs`, `guildls runs rm`, `guildls compare`: Guild's runs, read without Guild.

    guildls runs [-C DIR] [--format text|json] [-a] [FILTER...]
    guildls runs rm [-C DIR] [-y] RUN...
    guildls compare [-C DIR] [--format text|csv|json] [RUN...]

Runs are read from $GUILD_HOME/runs when GUILD_HOME is set, else from <DIR>/.guild/runs.
Exit codes: 0 ok, 1 nothing done (no such run, declined), 2 usage errors.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import re
import sys
from datetime import datetime
from typing import Any, Optional

from . import query, reader
from .layout import runs_dir


def _err(msg: str) -> None:
    sys.stderr.write(msg.rstrip("\n") + "\n")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-C", "--project", dest="project_dir", default=".", metavar="DIR",
                   help="project directory (default: current directory); runs are read from "
                        "$GUILD_HOME/runs when GUILD_HOME is set, else DIR/.guild/runs")


def _local_time(iso: Optional[str]) -> str:
    if not iso:
        return ""
    t = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=__import__("datetime").timezone.utc)
    return t.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _duration(sec: Optional[float]) -> str:
    if sec is None:
        return ""
    s = int(sec)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _float_text(v: float) -> str:
    """A float as `guild compare` shows it (flag_util.format_flag with truncate_floats=6): YAML's
    spelling (repr, `1.0e-05`, `.inf`, `.nan`), decimals cut (not rounded) after 6 digits."""
    if v != v:
        return ".nan"
    if math.isinf(v):
        return ".inf" if v > 0 else "-.inf"
    s = repr(v).lower()
    if "." not in s and "e" in s:
        s = s.replace("e", ".0e", 1)
    return re.sub(r"\.([0-9]{7,})", lambda m: "." + m.group(1)[:6], s)


def _value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return _float_text(v)
    return str(v)


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def _print_json(value: Any) -> None:
    """One line (the C encoder: pretty-printing 1,000 runs took longer than reading them);
    indented when a person reads it on a terminal."""
    tty = sys.stdout.isatty()
    sys.stdout.write(json.dumps(value, indent=1 if tty else None) + "\n")


def _runs(args, filters: list) -> list:
    return query.list_runs([runs_dir(args.project_dir)], filters)


# -- guildls runs ----------------------------------------------------------------------------

def cmd_list(argv: list) -> int:
    p = argparse.ArgumentParser(
        prog="guildls runs", description="List runs, newest first, like `guild runs`.",
        epilog=reader.FILTER_HELP + "  `guildls runs rm RUN...` deletes runs.")
    _common(p)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("-a", "--all", action="store_true",
                   help="show all runs (text shows the newest 20 by default, like Guild; "
                        "json always lists all)")
    p.add_argument("filters", nargs="*", metavar="FILTER")
    try:
        args = p.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0) and 2
    runs = _runs(args, args.filters)
    if args.format == "json":
        _print_json(runs)
        return 0
    shown = runs if args.all else runs[:20]
    if shown:
        rows = [[f"[{i}:{r['short_id']}]", r["operation"], _local_time(r["started"]), r["status"],
                 r["label"] or ""] for i, r in enumerate(shown, 1)]
        print(_table(rows))
    if len(shown) < len(runs):
        _err(f"Showing {len(shown)} of {len(runs)} runs (use -a to show all)")
    return 0


def cmd_rm(argv: list) -> int:
    p = argparse.ArgumentParser(
        prog="guildls runs rm",
        description="Delete runs: move them to Guild's trash (<guild home>/trash/runs), as "
                    "`guild runs rm` does; `guild runs restore` brings them back.")
    _common(p)
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run id, id prefix, or index from `guildls runs`")
    try:
        args = p.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0) and 2
    try:
        selected = query.select(_runs(args, []), args.runs)
    except query.RunSelectError as e:
        _err(f"guildls: {e}")
        return 1
    if not args.yes:
        print("You are about to delete the following runs:")
        for r in selected:
            print(f"  [{r['short_id']}]  {r['operation']}  {_local_time(r['started'])}  {r['status']}")
        if not sys.stdin.isatty():
            _err("guildls: not deleting without confirmation (use -y)")
            return 1
        try:
            answer = input(f"Delete {len(selected)} run(s)? [Y/n] ")
        except EOFError:
            answer = "n"
        if answer.strip().lower() not in ("", "y", "yes"):
            return 1
    try:
        deleted = query.delete_runs(selected)
    except OSError as e:
        _err(f"guildls: could not delete: {e}")
        return 1
    _err(f"Deleted {len(deleted)} run(s)")
    return 0


# -- guildls compare -------------------------------------------------------------------------

def cmd_compare(argv: list) -> int:
    p = argparse.ArgumentParser(
        prog="guildls compare",
        description="Runs x flags x last scalar values, like `guild compare --table`.")
    _common(p)
    p.add_argument("--format", choices=("text", "csv", "json"), default="text")
    p.add_argument("--include-batch", action="store_true",
                   help="include batch runs (left out by default, as Guild does)")
    p.add_argument("runs", nargs="*", metavar="RUN",
                   help="run ids, id prefixes or indexes (default: all runs)")
    try:
        args = p.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0) and 2
    runs = _runs(args, [])
    if args.runs:
        try:
            runs = query.select(runs, args.runs)
        except query.RunSelectError as e:
            _err(f"guildls: {e}")
            return 1
    if not args.include_batch:
        runs = [r for r in runs if r["kind"] != "batch"]
    cols = query.compare_columns(runs)
    if args.format == "json":
        _print_json({"columns": cols, "runs": runs})
        return 0
    rows = [query.compare_row(r, cols) for r in runs]
    if args.format == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        for row in rows:
            w.writerow(["" if row[c] is None else
                        (_local_time(row[c]) if c == "started" else
                         _duration(row[c]) if c == "time" else
                         ("yes" if row[c] is True else "no" if row[c] is False else row[c]))
                        for c in cols])
        sys.stdout.write(buf.getvalue())
        return 0
    table = [cols] + [[_local_time(row[c]) if c == "started" else
                       _duration(row[c]) if c == "time" else
                       _value(row[c]) for c in cols]
                      for r, row in zip(runs, rows)]
    print(_table(table))
    return 0


def cli_runs(argv: list) -> int:
    if argv and argv[0] in ("rm", "delete"):
        return cmd_rm(argv[1:])
    if argv and argv[0] in ("list", "ls"):
        argv = argv[1:]
    return cmd_list(argv)
