"""Command line: ``guildls check | run | runs | compare | serve | schema``."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from typing import Iterable, List, Optional


def find_guild_files(path: str) -> List[str]:
    from .model.files import is_guild_file_name as _is_guild_file

    if os.path.isdir(path):
        found = []
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in ("node_modules", "__pycache__"))
            for f in sorted(files):
                if _is_guild_file(f):
                    found.append(os.path.join(root, f))
        return found
    return [path]


def _diag_dict(path, p) -> dict:
    r = p.range
    return {
        "file": path,
        "line": r.start_line + 1,
        "column": r.start_col + 1,
        "end_line": r.end_line + 1,
        "end_column": r.end_col + 1,
        "severity": p.severity,
        "code": p.code,
        "message": p.message,
    }


def imports_settled() -> None:
    """The command imported what it needs: what exists now lives as long as the process,
    so collections need not scan it (``gc.freeze``), and the collector runs again (it is
    off from ``python -m guildls`` until here). A no-op when it is on (``main`` called
    in-process)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def cmd_check(args) -> int:
    from .analysis.diagnostics import diagnose
    from .model import load_path
    from .model.collector import collector_paused
    from .model.projectconfig import settings_for

    imports_settled()

    files: List[str] = []
    for p in args.paths:
        if not os.path.exists(p):
            print(f"guildls: {p}: no such file or directory", file=sys.stderr)
            return 2
        files.extend(find_guild_files(p))
    if not files:
        print("guildls: no guild files found (looked for guild.yml, guild.yaml, *.guild.yml)", file=sys.stderr)
        return 2
    levels = ["error", "warning", "information", "hint"]
    shown = set(levels[: levels.index(args.min_severity) + 1])
    results = []
    errors = 0
    unreadable = 0
    failing = {"error", "warning"} if args.strict else {"error"}
    reported = set()
    # no cyclic collection while files are checked: each model is freed by its dispose()
    # (a collection would rescan every model it meets, ~20% of the checking time)
    with collector_paused():
        for i, f in enumerate(files):
            try:
                gf = load_path(f)
            except OSError as e:  # not a regular file (a FIFO, a device), unreadable
                print(f"guildls: {f}: {e.strerror or e}", file=sys.stderr)
                unreadable += 1
                continue
            settings = settings_for(f)
            for err in settings.errors:
                if err not in reported:
                    reported.add(err)
                    print(f"guildls: {err}", file=sys.stderr)
            try:
                problems = diagnose(gf, settings.severity)
            except Exception as e:  # a bug of ours: say so plainly, no traceback
                print(f"guildls: {f}: internal error while checking ({type(e).__name__}: {e}); "
                      "please report this with the file", file=sys.stderr)
                return 2
            for p in problems:
                if p.severity in failing:
                    errors += 1
                if p.severity in shown:
                    results.append((f, p))
            if i + 1 < len(files):  # the last one is left to the process's end (main: os._exit)
                gf.dispose()
    if args.format == "json":
        json.dump([_diag_dict(f, p) for f, p in results], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        # one write: a print per problem costs more than checking it (60,000 warnings)
        sys.stdout.write("".join(f"{f}:{p.range.start_line + 1}:{p.range.start_col + 1}: {p.severity}: "
                                 f"{p.message} [{p.code}]\n" for f, p in results))
        counts = {}
        for _f, p in results:
            counts[p.severity] = counts.get(p.severity, 0) + 1
        summary = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items()) or "no problems"
        print(f"{len(files)} file{'s' if len(files) != 1 else ''} checked: {summary}", file=sys.stderr)
    if unreadable:
        return 2
    return 1 if errors else 0


def cmd_schema(args) -> int:
    from . import schema

    imports_settled()

    sys.stdout.write(schema.schema_text())
    return 0


def cmd_serve(args) -> int:
    from .lsp.server import serve

    serve()
    return 0


def main(argv: Optional[Iterable[str]] = None) -> int:
    try:
        rc = _main(argv)
        if argv is None and sys.argv[1:2] == ["check"]:
            # the program ends here: skip tearing down the models object by object (a
            # 60,000-operation file spent longer in interpreter exit than in checking)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(rc)
        return rc
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`guildls check ... | head`): stop quietly, and keep the
        # interpreter's final flush of stdout from reporting the same broken pipe
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141 if os.name == "posix" else 1


def _main(argv: Optional[Iterable[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("runs", "compare"):
        # run records only: no guild file model, no package lookups (imports cost more than
        # listing 1,000 cached runs)
        from .runs.cli import cli_runs, cmd_compare

        imports_settled()
        return (cli_runs if argv[0] == "runs" else cmd_compare)(argv[1:])
    from .executor.interpreter import use_configured_interpreter

    use_configured_interpreter()  # where `extends: pkg/model` finds packages
    if argv and argv[0] == "run":
        from .executor.cli import cli_run

        imports_settled()
        return cli_run(argv[1:])
    parser = argparse.ArgumentParser(
        prog="guildls", description="Language server, linter and workflow runner for Guild AI guild files.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"guildls {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("check", help="report problems in guild files (exit 1 on errors)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="guild file or directory (searched recursively)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--min-severity", choices=["error", "warning", "information", "hint"], default="warning",
                   help="lowest severity shown (default: warning)")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 on warnings too (problems Guild only meets when an operation runs)")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("serve", help="run the language server over stdio")
    p.add_argument("--stdio", action="store_true", help="accepted for editor compatibility (stdio is the default)")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("schema", help="print the JSON schema of guild files")
    p.set_defaults(func=cmd_schema)
    sub.add_parser("run", help="run an operation or workflow (see 'guildls run --help')")
    sub.add_parser("runs", help="list runs like `guild runs`; `runs rm` deletes (see 'guildls runs --help')")
    sub.add_parser("compare", help="runs x flags x scalars like `guild compare --table`")
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0) if e.code in (0, None) else 2
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.func(args)
    finally:
        gc.enable()
