"""`guildls run`: run an operation or workflow with the bundled executor.

    guildls run [-C DIR] OPERATION [NAME=VALUE ...] [@BATCHFILE ...] [--plan]
                [--format text|json] [--yes] [--label LABEL] [-t TAG ...] [--force-flags]
                [--needed] [--python EXE] [--max-trials N] [--random-seed N]
                [-o +|random] [-O] [--fail-on-trial-error] [--workers N] [--dask ADDRESS]

Batches (list values, search functions, batch files) run with Guild's semantics (batch.py);
`--workers N` runs up to N trials at once, `--dask tcp://HOST:8786` on a Dask cluster.

Exit codes follow Guild: 0 success, the failing step's exit code, 3 for a failed `expect`
check, 1 for errors found before anything ran (unknown operation/flag, bad value, undefined
reference...), 130 when interrupted (the run is recorded as terminated), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from typing import Optional

GUILDFILE_NAMES = ("guild.yml", "guild.yaml", ".guild.yml", ".guild.yaml")


def find_guildfile(project_dir: str) -> Optional[str]:
    for name in GUILDFILE_NAMES:
        p = os.path.join(project_dir, name)
        if os.path.isfile(p):
            return p
    return None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="guildls run",
        description="Run a Guild operation or workflow with guildls' bundled executor "
                    "(no Guild installation needed). Runs are recorded where Guild's own "
                    "tools read them: $GUILD_HOME/runs, else <project>/.guild/runs.")
    p.add_argument("-C", "--project", dest="project_dir", default=".", metavar="DIR",
                   help="project directory holding guild.yml (default: current directory)")
    p.add_argument("operation", metavar="OPERATION", help="operation to run (OP or MODEL:OP)")
    p.add_argument("flags", nargs="*", metavar="NAME=VALUE", help="flag values")
    p.add_argument("--plan", action="store_true", help="print the plan, run nothing")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="output format of --plan and of the final summary")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("-l", "--label", help="label for the run (steps without a label inherit it)")
    p.add_argument("-t", "--tag", dest="tags", action="append", default=[], help="tag (repeatable)")
    p.add_argument("-f", "--force-flags", action="store_true",
                   help="accept flags the operation does not declare (e.g. STEP:FLAG=VAL)")
    p.add_argument("--needed", action="store_true", help="skip if a matching run exists")
    b = p.add_argument_group("batches (Guild's run options)")
    b.add_argument("-m", "--max-trials", type=int, metavar="N",
                   help="maximum number of trials (random: default 20; grid: a sample)")
    b.add_argument("--random-seed", type=int, metavar="N", help="seed for random trials")
    b.add_argument("-o", "--optimizer", metavar="NAME",
                   help="'+' (grid) or 'random'; gp, forest, gbrt are refused")
    b.add_argument("-O", "--optimize", action="store_true",
                   help="use the default optimizer (Guild: gp, refused)")
    b.add_argument("--fail-on-trial-error", action="store_true",
                   help="stop the batch when a trial fails")
    b.add_argument("--workers", type=int, default=1, metavar="N",
                   help="run up to N trials at once (default 1, as Guild)")
    b.add_argument("--dask", metavar="ADDRESS",
                   help="run trials on an existing Dask cluster (tcp://HOST:8786); needs "
                        "'guildls[dask]' and a GUILD_HOME the workers share")
    p.add_argument("--python", metavar="EXE", help="Python interpreter for `main` operations "
                   "(default: $GUILDLS_PYTHON or the interpreter running guildls)")
    return p


def _err(msg: str) -> None:
    sys.stderr.write(msg.rstrip("\n") + "\n")
    sys.stderr.flush()


def _fmt_duration(d: Optional[float]) -> str:
    if d is None:
        return "-"
    return f"{d:.2f}s" if d < 60 else f"{int(d // 60)}m{d % 60:04.1f}s"


def summary_text(result) -> str:
    lines = []
    root = result.runs[0] if result.runs else None
    if root is not None:
        lines.append(f"guildls: {root.operation} {result.status} in {_fmt_duration(root.duration)}"
                     f" (exit {result.exit_code})")
    for r in result.runs:
        pad = "  " * r.depth
        name = f"{pad}{r.name}"
        extra = " (skipped: matching run exists)" if r.skipped else ""
        lines.append(f"  {r.id[:8]}  {name:<24} {r.status:<10} {_fmt_duration(r.duration):>8}{extra}")
    return "\n".join(lines)


def cli_run(argv) -> int:
    try:
        args = _parser().parse_args(list(argv))
    except SystemExit as e:
        return 2 if e.code not in (0, None) else 0
    try:
        return _run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # never a traceback
        _err(f"guildls: internal error: {type(e).__name__}: {e}")
        return 2


def _run(args) -> int:
    from ..model import load_path
    from .plan import PlanError, build_plan

    project_dir = os.path.abspath(args.project_dir)
    if not os.path.isdir(project_dir):
        _err(f"guildls: directory '{args.project_dir}' does not exist")
        return 1
    path = find_guildfile(project_dir)
    if path is None:
        _err(f"guildls: no guild file in {project_dir}")
        return 1
    try:
        gf = load_path(path)
    except OSError as e:
        _err(f"guildls: {path}: {e.strerror or e}")
        return 1
    try:
        plan = build_plan(gf, args.operation, args.flags, label=args.label, tags=args.tags,
                          force_flags=args.force_flags, project_dir=project_dir,
                          needed=args.needed, batch_options={
                              "max_trials": args.max_trials, "random_seed": args.random_seed,
                              "optimizer": args.optimizer, "optimize": args.optimize,
                              "fail_on_trial_error": args.fail_on_trial_error})
    except PlanError as e:
        _err(f"guild: {e}")
        return e.exit_code
    if args.plan:
        if args.format == "json":
            # the shape: a list of steps (name, operation, flags, options, steps for
            # nested workflows); a single operation is a list of one
            root = plan.to_json()
            out = root.get("steps", []) if plan.kind == "steps" else [root]
            print(json.dumps(out, indent=2))
        else:
            print(plan.to_text())
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            _err("guildls: refusing to run without confirmation (stdin is not a terminal): use --yes")
            return 1
        print(f"You are about to run {plan.opspec}")
        print(plan.to_text())
        try:
            answer = input("Continue? (Y/n) ").strip().lower()
        except EOFError:
            answer = "n"
        if answer not in ("", "y", "yes"):
            return 1
    return _execute(plan, project_dir, path, args)


def _execute(plan, project_dir: str, path: str, args) -> int:
    from .batch_runner import TrialLines
    from .runner import Runner

    json_mode = args.format == "json"
    out_lock = threading.Lock()
    parallel = args.workers > 1 or bool(args.dask)

    def write(stream, text):
        target = sys.stderr if (stream == "stderr" or json_mode) else sys.stdout
        target.write(text)
        target.flush()

    lines = TrialLines(write)  # trials at once: whole lines, prefixed `[trial 3/8] `

    def on_output(run_id, stream, text):
        with out_lock:
            if parallel:
                lines.output(run_id, stream, text)
            else:
                write(stream, text)

    def on_event(event):
        if parallel:
            with out_lock:
                lines.event(event)

    launcher = None
    if args.workers < 1:
        _err("guildls: --workers must be at least 1")
        return 2
    if args.dask and plan.has_batch():
        from .dask_launcher import DaskError, DaskLauncher
        try:
            from ..runs import runs_dir
            launcher = DaskLauncher.connect(args.dask, runs_dir(project_dir, dict(os.environ)))
        except DaskError as e:
            _err(f"guildls: {e}")
            return 1
    runner = Runner(plan, project_dir, path, python_exe=args.python, on_output=on_output,
                    on_event=on_event, workers=args.workers, trial_launcher=launcher)
    holder = {}

    finished = threading.Event()

    def work():
        try:
            holder["result"] = runner.run()
        except BaseException as e:  # pragma: no cover - surfaced below
            holder["error"] = e
        finally:
            finished.set()

    t = threading.Thread(target=work, name="guildls-run", daemon=True)
    interrupted = False
    old_term = old_int = None
    if threading.current_thread() is threading.main_thread():
        old_term = signal.signal(signal.SIGTERM, lambda *_: runner.stop())
        # a process started in the background by a non-interactive shell inherits SIGINT
        # ignored, and Python then raises no KeyboardInterrupt: `kill -INT` would not stop
        # the run. Interrupting a run must always stop it.
        old_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    t.start()
    try:
        while not finished.is_set():
            try:
                finished.wait(0.1)
            except KeyboardInterrupt:
                if not interrupted:
                    _err("guildls: stopping (interrupted)")
                interrupted = True
                runner.stop()
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
        if old_int is not None:
            signal.signal(signal.SIGINT, old_int)
    if launcher is not None:
        launcher.close()
    if "error" in holder:
        raise holder["error"]
    result = holder["result"]
    if result.message:
        _err(f"guild: {result.message}")
    if json_mode:
        print(json.dumps({"exit_code": result.exit_code, "status": result.status,
                          "runs": [r.to_json() for r in result.runs],
                          "runs_dir": runner.runs_root}, indent=2))
    else:
        _err(summary_text(result))
    if interrupted or runner.stopping:
        return 130
    return result.exit_code if result.exit_code >= 0 else 1
