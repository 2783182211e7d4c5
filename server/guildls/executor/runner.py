"""Runner: executes a Plan as child processes and records Guild-layout runs.

How an operation runs (decisions, checked against Guild 0.9.0 where it matters):

- Each non-workflow step is a child process started with `start_new_session=True` (its own
  process group), stdin `/dev/null`, stdout/stderr pipes read by two threads that never
  block the caller: every chunk goes to the step run's `.guild/output` (+ `output.index`),
  to every ancestor workflow run's output (Guild's parent captures all step output), and to
  the `on_output` callback.
- Like Guild, the working directory is the *run directory*: the project's source code is
  copied there first (Guild's selection rules, see sourcecode.py; manifest `s` lines) and
  `requires` (operation and file sources, resolved by the plan) are copied or linked in
  (manifest `d` lines). The project directory is also on PYTHONPATH (after the run dir), so
  modules the copy skipped still import.
- `exec`: shell-split (no shell), `${flag}` substituted per argument after splitting, so a
  flag value can never inject shell syntax; `${flag_args}` expands to `--name value` words;
  `${python_exe}`, `${project_dir}` as in Guild.
- `main`: `python -u -m MODULE [main args] --name value ...` for flags-dest `args`
  (argparse scripts); for `globals` (scripts without argparse/click, Guild's detection) a
  tiny stdlib bootstrap (`_globals_main.py`) replaces the module's top-level assignments of
  flag names, as Guild's op_main does, so `epochs = 2` in the script becomes the flag value.
- Workflows (`steps`) run in-process: no extra Python per workflow level.
- Every flag is also exported as `FLAG_<NAME>`; plus RUN_DIR, RUN_ID, PROJECT_DIR, GUILD_OP,
  GUILD_RUNS_PARENT (isolated steps), PYTHONUNBUFFERED=1.
- Stopping (`stop()`): SIGTERM to the step's whole process group, SIGKILL after
  `kill_grace` seconds (Windows: Ctrl-Break to the group, then taskkill of the tree; see
  procs.py); the step and all running ancestors are recorded with exit_status
  -15 (Guild's `terminated`).
"""

from __future__ import annotations

import codecs
import glob
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..model import flagvals as fv
from .. import runs as R
from . import procs as proctl
from . import watchdog
from .. import fslinks
from .plan import PlanStep
from ..runs.scalars import ScalarWriter, patterns_for
from .sourcecode import select_for

GLOBALS_MAIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_globals_main.py")

TERMINATED = -15
READER_GRACE = 1.0  # seconds to drain a step's pipes after it exits


@dataclass
class RunInfo:
    id: str
    name: str  # step name (or the op for the root)
    operation: str
    path: str
    depth: int
    status: str = "pending"
    exit_status: Optional[int] = None
    started: Optional[float] = None
    stopped: Optional[float] = None
    skipped: bool = False

    @property
    def duration(self) -> Optional[float]:
        if self.started is None or self.stopped is None:
            return None
        return self.stopped - self.started

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "operation": self.operation,
                "status": self.status, "exit_status": self.exit_status,
                "duration": None if self.duration is None else round(self.duration, 3),
                "depth": self.depth, "path": self.path, "skipped": self.skipped}


@dataclass
class Result:
    exit_code: int
    status: str
    runs: list = field(default_factory=list)  # RunInfo, in start order
    root_id: Optional[str] = None
    message: Optional[str] = None


class _StepFailed(Exception):
    def __init__(self, code: int, message: Optional[str] = None):
        super().__init__(code, message)
        self.code = code
        self.message = message


class Runner:
    """Run a plan. `run()` blocks (call it from a worker thread); `stop()` is thread-safe.

    Callbacks (all optional, called from runner/reader threads, must not block):
      on_output(run_id, stream, text)   stream 'stdout' | 'stderr' (Guild's INFO lines: stderr)
      on_event(event: dict)             {'type': 'run-started'|'run-finished'|'step-started', ...}
    """

    def __init__(self, plan: PlanStep, project_dir: str, guildfile_path: Optional[str] = None,
                 *, runs_root: Optional[str] = None, python_exe: Optional[str] = None,
                 env: Optional[dict] = None, on_output: Optional[Callable] = None,
                 on_event: Optional[Callable] = None, kill_grace: float = 3.0,
                 copy_sourcecode: bool = True, run_id: Optional[str] = None,
                 reader_grace: float = READER_GRACE, workers: int = 1,
                 trial_launcher: Any = None):
        self.plan = plan
        self.project_dir = os.path.abspath(project_dir)
        self.guildfile_path = os.path.abspath(
            guildfile_path or os.path.join(self.project_dir, "guild.yml"))
        self.base_env = dict(os.environ if env is None else env)
        self.runs_root = runs_root or R.runs_dir(self.project_dir, self.base_env)
        # run id -> the run whose links limit its lookups (Guild's GUILD_RUNS_PARENT)
        self._runs_parent: dict = {}
        self.python_exe = python_exe or self.base_env.get("GUILDLS_PYTHON") or sys.executable
        self.on_output = on_output
        self.on_event = on_event
        self.kill_grace = kill_grace
        self.reader_grace = reader_grace
        self.copy_sourcecode = copy_sourcecode
        self.runs: list[RunInfo] = []
        self.total_steps = plan.count()
        self._step_counter = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._procs: list[subprocess.Popen] = []
        self._opref_version = None
        self._vcs_commit: Optional[str] = None
        self._git_cache: dict = {}
        self._source_cache = None
        self.root_id: Optional[str] = run_id
        self._preset_root_id = run_id
        self._root_id_ready = threading.Event()
        # batches (batch_runner.py): trials at once, and where they run (None: here)
        self.workers = max(1, int(workers or 1))
        self.trial_launcher = trial_launcher

    # -- public -----------------------------------------------------------------------------
    def stop(self, wait: bool = False) -> bool:
        """Stop: SIGTERM the running step's process group, SIGKILL after kill_grace.
        With ``wait`` the SIGKILL is sent before returning (at exit: a daemon thread
        would die with the process and leave SIGTERM-ignoring children behind)."""
        already = self._stop.is_set()
        self._stop.set()
        with self._lock:
            procs = list(self._procs)
        for p in procs:
            proctl.terminate(p)
        if procs and wait:
            self._kill_later(procs)
        elif procs:
            threading.Thread(target=self._kill_later, args=(procs,), daemon=True).start()
        return not already

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> Result:
        home = self.base_env.get("GUILD_HOME")
        if home and not os.path.isdir(home):  # as Guild: never create a mistyped home
            self._root_id_ready.set()
            return Result(exit_code=1, status="error", runs=[],
                          message=f"directory '{home}' does not exist")
        try:
            os.makedirs(self.runs_root, exist_ok=True)
            if not os.access(self.runs_root, os.W_OK | os.X_OK):
                raise PermissionError(13, "Permission denied", self.runs_root)
        except OSError as e:
            self._root_id_ready.set()
            return Result(exit_code=1, status="error", runs=[],
                          message=f"cannot write runs in {self.runs_root}: {e.strerror or e}")
        try:
            self._opref_version = R.file_md5(self.guildfile_path)
        except OSError:
            self._opref_version = "0"
        try:
            info = self._run_node(self.plan, parent=None, ancestors=[], depth=0)
            code = 0 if info.exit_status in (0, None) else info.exit_status
            message = None
        except _StepFailed as e:
            code, message = e.code, e.message
        except OSError as e:  # a record could not be written (permissions, disk full...)
            where = f": {e.filename}" if getattr(e, "filename", None) else ""
            code, message = 1, f"cannot write run records{where}: {e.strerror or e}"
        except Exception as e:  # executor failure: reported, runs already finalized
            code, message = 1, f"internal error: {type(e).__name__}: {e}"
        finally:
            self._root_id_ready.set()
        status = "completed" if code == 0 else ("terminated" if code < 0 else "error")
        return Result(exit_code=code, status=status, runs=list(self.runs),
                      root_id=self.root_id, message=message)

    def wait_root_id(self, timeout: Optional[float] = None) -> Optional[str]:
        self._root_id_ready.wait(timeout)
        return self.root_id

    # -- helpers ----------------------------------------------------------------------------
    def _emit(self, event: dict) -> None:
        if self.on_event:
            try:
                self.on_event(event)
            except Exception:
                pass

    def _say(self, text: str, ancestors: list, stream: str = "stderr") -> None:
        """A Guild message line: to the user and into every ancestor run's output."""
        data = (text + "\n").encode()
        for a in ancestors:
            a.write_output(data, 1 if stream == "stderr" else 0)
        if self.on_output:
            try:
                self.on_output(ancestors[-1].id if ancestors else None, stream, text + "\n")
            except Exception:
                pass

    def _kill_later(self, procs):
        deadline = time.time() + self.kill_grace
        for p in procs:
            while _group_alive(p) and time.time() < deadline:
                time.sleep(0.02)
            proctl.kill(p)

    def _start_parent_run(self, run, info, node, depth: int, parent, **event) -> None:
        """Mark a workflow or batch run started: this process holds its lock and it collects
        its children's output."""
        run.write_lock(os.getpid())
        run.open_output()
        info.started = time.time()
        run.mark_started()
        info.status = "running"
        self._emit({"type": "run-started", "runId": run.id, "name": node.name,
                    "operation": node.opspec, "depth": depth, **event,
                    "parentId": parent.id if parent else None})

    def _opref(self, op) -> str:
        model = op.model.name if op.model is not None else ""
        return R.encode_opref(self.guildfile_path, model, op.name, self._opref_version)

    # -- nodes ------------------------------------------------------------------------------
    def _run_node(self, node: PlanStep, parent: Optional[R.Run], ancestors: list, depth: int,
                  parent_info: Optional[RunInfo] = None) -> RunInfo:
        if node.kind == "steps":
            return self._run_workflow(node, parent, ancestors, depth)
        if node.batch is not None:
            from .batch_runner import run_batch
            return run_batch(self, node, parent, ancestors, depth)
        return self._run_op(node, parent, ancestors, depth)

    def _new_run(self, node: PlanStep, parent: Optional[R.Run], depth: int,
                 trial: Optional[tuple] = None) -> tuple[R.Run, RunInfo]:
        """A new run linked from its parent; `trial` = (run, info) made by the batch."""
        if trial is not None:
            return trial
        run = R.create_run(self.runs_root, self._preset_root_id if parent is None else None)
        if parent is not None:
            parent.link_step(node.name, run)
        else:
            self.root_id = run.id
            self._root_id_ready.set()
        info = RunInfo(run.id, node.name, node.opspec, node.path, depth)
        self.runs.append(info)
        return run, info

    def _common_env(self, run: R.Run, node: PlanStep, parent: Optional[R.Run]) -> dict:
        env = {
            "RUN_DIR": run.path,
            "RUN_ID": run.id,
            "PROJECT_DIR": self.project_dir,
            "GUILD_OP": node.opspec,
            "PYTHONUNBUFFERED": "1",
        }
        if "GUILD_HOME" in self.base_env:
            env["GUILD_HOME"] = self.base_env["GUILD_HOME"]
        if parent is not None:
            env["NO_WARN_RUNDIR"] = "1"
        scope = self._scope_run(node, parent)
        self._runs_parent[run.id] = scope
        if scope is not None:
            env["GUILD_RUNS_PARENT"] = scope.id
        return env

    def _scope_run(self, node: PlanStep, parent: Optional[R.Run]) -> Optional[R.Run]:
        """The run whose linked runs a step may use (Guild's GUILD_RUNS_PARENT): its
        workflow's run when isolated; with `isolate-runs: no` the step inherits its
        workflow's environment, so a step of a nested workflow is still limited to the
        runs linked from the outer workflow; None (every run) at the top."""
        if parent is None:
            return None
        if node.isolate_runs:
            return parent
        return self._runs_parent.get(parent.id)

    def _label(self, node: PlanStep, flags: dict) -> str:
        label = node.options.get("label")
        if label is not None:
            return str(label)
        template = node.operation.label if node.operation is not None else None
        return fv.render_label(template if isinstance(template, str) else None, flags)

    def _run_params(self, node: PlanStep, run_dir: Optional[str]) -> dict:
        o = node.options
        return {
            "opspec": node.opspec, "flags": fv.flag_assigns(node.user_flags),
            "label": o.get("label"), "tags": list(o.get("tags") or []),
            "needed": bool(o.get("needed")), "force_flags": bool(node.force_flags),
            "max_trials": o.get("max_trials"), "gpus": o.get("gpus"),
            "run_dir": run_dir, "yes": True,
        }

    def _finish(self, run: R.Run, info: RunInfo, code: int) -> None:
        run.finalize(code)
        info.exit_status = code
        info.status = R.status_for_exit(code)
        info.stopped = time.time()
        self._emit({"type": "run-finished", "runId": run.id, "name": info.name,
                    "operation": info.operation, "exitStatus": code, "status": info.status,
                    "depth": info.depth, "duration": info.duration})

    # -- workflow -----------------------------------------------------------------------------
    def _run_workflow(self, node: PlanStep, parent: Optional[R.Run], ancestors: list,
                      depth: int) -> RunInfo:
        run, info = self._new_run(node, parent, depth)
        op = node.operation
        raw_steps = op.attr("steps").py() if op.attr("steps") is not None else []
        env = self._common_env(run, node, parent)
        env["LOG_LEVEL"] = "20"
        R.init_common_attrs(
            run, opref=self._opref(op), flags=node.flags, user_flags=node.user_flags,
            cmd=[self.python_exe, "-m", "guildls", "run", node.opspec],
            label=self._label(node, node.flags), tags=node.options.get("tags") or [],
            env=env, run_params=self._run_params(node, run.path if parent else None),
            extra={"steps": raw_steps, "sourcecode_digest": None, "deps": {}})
        self._start_parent_run(run, info, node, depth, parent)
        chain = ancestors + [run]
        code = 0
        try:
            for step in node.steps:
                if self._stop.is_set():
                    code = TERMINATED
                    break
                self._step_counter += 1
                self._emit({"type": "step-started", "index": self._step_counter,
                            "total": self.total_steps, "name": step.name,
                            "operation": step.opspec, "path": step.path})
                self._say(step.running_line(), chain)
                child = self._run_node(step, run, chain, depth + 1)
                if child.exit_status not in (0, None):
                    code = child.exit_status
                    break
                if step.expect and not child.skipped:
                    if not self._check(step, child, chain):
                        code = 3
                        self._say("guild: stopping because a check failed", chain)
                        break
                elif step.expect and child.skipped:
                    self._say(f"INFO: [guild] skipping checks for {step.name}", chain)
        except _StepFailed as e:
            code = e.code
            if e.message:
                self._say(f"guild: {e.message}", chain)
        except BaseException:
            self._finish(run, info, 1)
            raise
        if self._stop.is_set() and code != 0:
            code = TERMINATED
        self._finish(run, info, code)
        if parent is None and code != 0:
            raise _StepFailed(code)
        return info

    # -- checks ---------------------------------------------------------------------------------
    def _check(self, step: PlanStep, info: RunInfo, chain: list) -> bool:
        run = R.Run(info.id, os.path.join(self.runs_root, info.id))
        passed = failed = 0
        for c in step.expect:
            try:
                if c.kind == "output":
                    self._say(f"INFO: [guild] checking run {run.id} output for {c.pattern!r}", chain)
                    if not re.search(c.pattern or "", run.read_output()):
                        raise _CheckFailed(
                            f"could not find pattern {c.pattern!r} in run {run.id} output")
                else:
                    self._say(f"INFO: [guild] checking run {run.id} files {c.pattern!r}", chain)
                    matches = sorted(glob.glob(os.path.join(run.path, c.pattern or "")))
                    if not matches:
                        raise _CheckFailed(f"no files matching {c.pattern} in run {run.id}")
                    for m in matches:
                        rel = os.path.relpath(m, run.path)
                        if c.compare_to:
                            other = os.path.join(run.path, fv.resolve_refs(c.compare_to, os.environ, ""))
                            self._say(f"INFO: [guild] comparing run {run.id} file {rel} to {other}", chain)
                            if _read(m) != _read(other):
                                raise _CheckFailed("unexpected file contents - see above for details")
                        if c.contains is not None:
                            self._say(f"INFO: [guild] checking run {run.id} file {rel} for {c.contains!r}", chain)
                            if not re.search(c.contains, _read(m)):
                                raise _CheckFailed(
                                    f"could not find pattern {c.contains!r} in run {run.id} file {rel}")
            except _CheckFailed as e:
                self._say(f"ERROR: [guild] check failed: {e}", chain)
                failed += 1
            else:
                passed += 1
        self._say(f"INFO: [guild] {passed} of {passed + failed} checks passed", chain)
        if failed:
            self._say(f"ERROR: [guild] {failed} check(s) failed - see above for details", chain)
        return failed == 0

    # -- one operation ------------------------------------------------------------------------------
    def _run_op(self, node: PlanStep, parent: Optional[R.Run], ancestors: list, depth: int,
                trial: Optional[tuple] = None, ready=None) -> RunInfo:
        """One operation run. `trial`: (run, info) of a batch trial created by the batch; a
        trial never raises _StepFailed (the batch decides). `ready()`: called once the run is
        prepared, right before its process starts; it may wait (for a free slot), and when it
        returns False the run is not started (recorded terminated)."""
        before = len(self.runs)
        if trial is not None:
            try:
                return self._run_op_(node, parent, ancestors, depth, trial, ready)
            except _StepFailed:
                return trial[1]
            except BaseException as e:
                run, info = trial
                if info.exit_status is None:
                    self._say(f"guild: {type(e).__name__}: {e}", ancestors + [run])
                    try:
                        self._finish(run, info, 1)
                    except OSError:  # the record cannot be written: reported, not running
                        info.exit_status, info.status, info.stopped = 1, "error", time.time()
                return info
        try:
            return self._run_op_(node, parent, ancestors, depth)
        except _StepFailed:
            raise
        except BaseException as e:
            # an executor failure (disk full, permissions...): never leave a run `running`
            if len(self.runs) > before:
                info = self.runs[-1]
                if info.exit_status is None:
                    run = R.Run(info.id, os.path.join(self.runs_root, info.id))
                    self._say(f"guild: {type(e).__name__}: {e}", ancestors + [run])
                    try:
                        self._finish(run, info, 1)
                    except OSError:
                        pass
            raise

    def _run_op_(self, node: PlanStep, parent: Optional[R.Run], ancestors: list, depth: int,
                 trial: Optional[tuple] = None, ready=None) -> RunInfo:
        op = node.operation
        if node.options.get("needed") and trial is None:
            match = self._needed_match(node, parent)
            if match is not None:
                self._say("Skipping because the following runs match this operation "
                          "(--needed specified):", ancestors, "stdout")
                self._say(f"  [{match.id[:8]}]  {match.op_name}  {match.status}  "
                          f"{match.get('label', '')}", ancestors, "stdout")
                info = RunInfo(match.id, node.name, node.opspec, node.path, depth,
                               status="completed", exit_status=0, skipped=True)
                info.started = info.stopped = time.time()
                self.runs.append(info)
                return info
        run, info = self._new_run(node, parent, depth, trial)
        flags = dict(node.flags)
        env = self._common_env(run, node, parent)
        # source code
        manifest = []
        digest = None
        if self.copy_sourcecode:
            manifest, digest = self._copy_source(op, run.path)
        run.write_opref(self._opref(op))
        run.write_attr("sourcecode_digest", digest)
        if self._vcs_commit is None:
            self._vcs_commit = R.vcs_commit(self.project_dir) or ""
        if self._vcs_commit:
            run.write_attr("vcs_commit", self._vcs_commit)
        # dependencies
        try:
            deps_attr, dep_flags, dep_manifest = self._resolve_deps(node, run, parent, ancestors)
        except _StepFailed as e:
            # Guild's record of a run that never started: no env, exit_status or stopped
            # (Guild's readers show it as an error run: no exit status, no live process)
            R.init_common_attrs(
                run, opref=self._opref(op), flags=flags, user_flags=node.user_flags, cmd=[],
                label=self._label(node, flags), tags=node.options.get("tags") or [], env=None,
                run_params=self._run_params(node, run.path if parent else None))
            run.append_manifest(manifest)
            self._say(f"guild: {e.message}", ancestors)
            info.exit_status, info.status = 1, "error"
            self._emit({"type": "run-finished", "runId": run.id, "name": info.name,
                        "operation": info.operation, "exitStatus": 1, "status": "error",
                        "depth": depth, "duration": None})
            if parent is None:
                raise _StepFailed(1, None)
            return info
        flags.update(dep_flags)
        cmd, extra_env = self._command(node, run, flags)
        env.update(extra_env)
        if node.options.get("no_gpus"):
            env["CUDA_VISIBLE_DEVICES"] = ""
        elif node.options.get("gpus") is not None:
            env["CUDA_VISIBLE_DEVICES"] = str(node.options["gpus"])
        for w in node.warnings:
            self._say(f"WARNING: {w}", ancestors + [run])
        R.init_common_attrs(
            run, opref=self._opref(op), flags=flags, user_flags=node.user_flags, cmd=cmd,
            label=self._label(node, flags), tags=node.options.get("tags") or [], env=env,
            run_params=self._run_params(node, run.path if parent else None),
            extra={"deps": deps_attr})
        run.append_manifest(manifest + dep_manifest)
        proc_env = dict(self.base_env)
        proc_env.update(env)
        pp = [run.path, self.project_dir]
        extra_pp = op.value("python-path") if hasattr(op, "value") else None
        if isinstance(extra_pp, str):
            extra_pp = [extra_pp]
        for entry in extra_pp or []:
            if isinstance(entry, str):
                pp.append(os.path.join(self.project_dir, entry))
        if self.base_env.get("PYTHONPATH"):
            pp.append(self.base_env["PYTHONPATH"])
        proc_env["PYTHONPATH"] = os.pathsep.join(pp)
        run.open_output()
        if (ready is not None and not ready()) or self._stop.is_set():
            self._finish(run, info, TERMINATED)
            return info
        if trial is not None and self.trial_launcher is not None:
            return self._run_launched(node, run, info, cmd, proc_env, ancestors, depth, parent)
        try:
            proc = subprocess.Popen(cmd, cwd=run.path, env=proc_env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    **proctl.popen_group())
        except OSError as e:
            self._say(f"guild: {e.strerror or e}: {cmd[0]}", ancestors + [run])
            self._finish(run, info, 1)
            if parent is None:
                raise _StepFailed(1, None)
            return info
        with self._lock:
            self._procs.append(proc)
        if os.name == "posix":
            watchdog.watch(proc.pid)  # its own group: ended if this executor dies first
        try:
            run.write_lock(proc.pid)
            info.started = time.time()
            run.mark_started()
        except BaseException:  # the record cannot say it runs: it must not run unrecorded
            proctl.kill(proc)
            proc.wait()
            with self._lock:
                if proc in self._procs:
                    self._procs.remove(proc)
            if os.name == "posix":
                watchdog.forget(proc.pid)
            run.delete_lock()
            raise
        info.status = "running"
        self._emit({"type": "run-started", "runId": run.id, "name": node.name,
                    "operation": node.opspec, "depth": depth, "pid": proc.pid,
                    "parentId": parent.id if parent else None})
        sinks = ancestors + [run]
        done = threading.Event()
        scalars = ScalarWriter(run.guild_path(), patterns_for(op.value("output-scalars")))
        readers = [
            threading.Thread(target=self._pump, args=(proc.stdout, 0, sinks, run.id, done, scalars),
                             daemon=True),
            threading.Thread(target=self._pump, args=(proc.stderr, 1, sinks, run.id, done, scalars),
                             daemon=True),
        ]
        for t in readers:
            t.start()
        if self._stop.is_set():  # stop() raced with the start
            proctl.terminate(proc)
            threading.Thread(target=self._kill_later, args=([proc],), daemon=True).start()
        code = proc.wait()
        deadline = time.time() + self.reader_grace
        for t in readers:
            t.join(max(0.0, deadline - time.time()))
        done.set()
        for t in readers:
            t.join()
        try:
            scalars.close()
        except OSError:
            pass
        with self._lock:
            if proc in self._procs:
                self._procs.remove(proc)
        if os.name == "posix":
            watchdog.forget(proc.pid)
        if self._stop.is_set() and code != 0:
            code = TERMINATED if code < 0 or code in (128 + 15, 128 + 9) else code
            if code > 0:
                code = TERMINATED
        self._finish(run, info, code)
        if parent is None and code != 0:
            raise _StepFailed(code)
        return info

    def _run_launched(self, node: PlanStep, run: R.Run, info: RunInfo, cmd: list, env: dict,
                      ancestors: list, depth: int, parent: Optional[R.Run]) -> RunInfo:
        """A trial handed to `trial_launcher` (Dask) instead of a local process."""
        from .batch_runner import run_launched
        return run_launched(self, node, run, info, cmd, env, ancestors, depth, parent)

    def _pump(self, pipe, stream: int, sinks: list, run_id: str, done: threading.Event,
              scalars=None) -> None:
        """Copy a child's pipe to the run outputs and the callback until EOF, or until `done`
        is set and nothing is left to read (a grandchild that outlives the step and keeps
        the pipe open must not hang the workflow)."""
        name = "stdout" if stream == 0 else "stderr"
        fd = pipe.fileno()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        try:
            while True:
                if done.is_set():
                    if not proctl.readable(fd, 0):
                        break
                else:
                    if not proctl.readable(fd, 0.1):
                        continue
                try:
                    buf = os.read(fd, 65536)
                except OSError:
                    break
                if not buf:
                    break
                for s in sinks:
                    s.write_output(buf, stream)
                if scalars is not None:
                    with self._lock:
                        scalars.feed(buf, stream)
                if self.on_output:
                    text = decoder.decode(buf)
                    if text:
                        try:
                            self.on_output(run_id, name, text)
                        except Exception:
                            pass
        finally:
            tail = decoder.decode(b"", final=True)
            if tail and self.on_output:
                try:
                    self.on_output(run_id, name, tail)
                except Exception:
                    pass
            try:
                pipe.close()
            except OSError:
                pass

    # -- command line ---------------------------------------------------------------------------------
    def _command(self, node: PlanStep, run: R.Run, flags: dict) -> tuple[list, dict]:
        op = node.operation
        defs = dict(node.flag_defs) or {n: f.attrs for n, f in op.flags.items()}
        env: dict = {}
        for name, val in flags.items():
            attrs = defs.get(name) or {}
            if val is None and name not in defs:
                continue
            env[attrs.get("env-name") or fv.env_name_for_flag(name)] = _encode_env(val, attrs)
        for k, v in (op.env or {}).items():
            val = fv.resolve_refs(v, flags, None) if isinstance(v, str) else v
            env[str(k)] = fv.encode_arg(val)
        if node.kind == "exec":
            params = {n: fv.encode_arg(v) for n, v in flags.items()}
            params.update(python_exe=self.python_exe, guild_python_exe=sys.executable,
                          project_dir=self.project_dir)
            fargs = self._flag_args(node, flags, defs, [])
            cmd: list = []
            for word in shlex.split(op.exec):
                if word == "${flag_args}":
                    cmd.extend(fargs)
                elif word == "${main_args}":
                    continue
                else:
                    p2 = dict(params, flag_args=" ".join(shlex.quote(a) for a in fargs), main_args="")
                    cmd.append(str(fv.resolve_refs(word, p2, "")))
            return cmd, env
        # main
        params = {n: fv.encode_arg(v) for n, v in flags.items()}
        params.update(python_exe=self.python_exe, guild_python_exe=sys.executable,
                      project_dir=self.project_dir)
        is_globals = node.flags_dest == "globals" or node.flags_dest.startswith("global")
        gflags = {n: v for n, v in flags.items()
                  if not (defs.get(n) or {}).get("arg-skip") and v is not None}
        margs = []
        for a in node.main_args:
            if a == "${flag_args}":  # as Guild: the flag args here; not repeated at the end
                margs += (self._flag_args(node, gflags, defs, [], for_globals=True) if is_globals
                          else self._flag_args(node, flags, defs, []))
            else:
                margs.append(str(fv.resolve_refs(a, params, "")))
        module = node.main_module or op.name.replace("-", "_")
        mdir, _, mod = module.rpartition("/")
        if mdir:
            env["GUILDLS_MAIN_DIR"] = mdir
        if is_globals:
            env["FLAGS_DEST"] = "globals"
            env["GUILDLS_GLOBALS"] = repr(_jsonable_flags(gflags))
            base = [self.python_exe, "-u", GLOBALS_MAIN, mod] + margs + ["--"]
            return base + self._flag_args(node, gflags, defs, margs, for_globals=True), env
        env["FLAGS_DEST"] = node.flags_dest
        cmd = [self.python_exe, "-u", "-m", mod] + margs
        if mdir:
            cmd = [self.python_exe, "-u", GLOBALS_MAIN, "--args", mod] + margs
        return cmd + self._flag_args(node, flags, defs, margs), env

    def _flag_args(self, node: PlanStep, flags: dict, defs: dict, cmd_args: list,
                   for_globals: bool = False) -> list[str]:
        out: list[str] = []
        default_skip = node.operation.value("default-flag-arg-skip") if hasattr(node.operation, "value") else None
        for name, val in sorted(flags.items()):
            attrs = defs.get(name)
            if attrs is None and not (node.force_flags or node.flags_open):
                continue
            attrs = attrs or {}
            skip = attrs.get("arg-skip")
            if skip is None:
                skip = bool(default_skip)
            if skip:
                continue
            arg = attrs.get("arg-name") or name
            if f"--{arg}" in cmd_args:
                continue
            switch = attrs.get("arg-switch")
            if switch is not None:
                if switch == val:
                    out.append(f"--{arg}")
                continue
            if val is None:
                continue
            if for_globals:
                out += [f"--{arg}", fv.encode_yaml(val, default_flow_style=True)]
            elif isinstance(val, list):  # arg-split / nargs: one word per item
                if val:
                    out += [f"--{arg}"] + [fv.encode_arg(x) for x in val]
            elif attrs.get("arg-split") and isinstance(val, str):
                parts = shlex.split(val) if attrs.get("arg-split") in (True, "shlex", "yes") \
                    else [p for p in val.split(str(attrs.get("arg-split"))) if p]
                if parts:
                    out += [f"--{arg}"] + parts
            else:
                out += [f"--{arg}", _encode_arg(val, attrs)]
        return out

    # -- source code ----------------------------------------------------------------------------------
    def _copy_source(self, op, dest: str) -> tuple[list, Optional[str]]:
        key = op.fullname
        files = self._source_cache.get(key) if self._source_cache is not None else None
        if files is None:
            sel = select_for(op, self.project_dir, self._git_cache)
            files = (sel.root, sel.dest,
                     [(rel, R.file_sha1(os.path.join(sel.root, rel))) for rel in sel.files()])
            if self._source_cache is None:
                self._source_cache = {}
            self._source_cache[key] = files
        root, dest_rel, entries = files
        manifest = []
        h = hashlib.md5()
        for rel, sha in entries:
            src = os.path.join(root, rel)
            out_rel = os.path.normpath(os.path.join(dest_rel, rel))
            dst = os.path.join(dest, out_rel)
            d = os.path.dirname(dst)
            if d and not os.path.isdir(d):
                os.makedirs(d, exist_ok=True)
            try:
                shutil.copyfile(src, dst)
                os.chmod(dst, 0o444)
            except OSError:
                continue
            manifest.append(f"s {_q(out_rel)} {sha} {_q(rel)}")
            h.update(f"{rel}\0{sha}\n".encode())
        return manifest, (h.hexdigest() if manifest else None)

    # -- dependencies ---------------------------------------------------------------------------------
    def _scope(self, node: PlanStep, parent: Optional[R.Run]) -> list:
        scope = self._scope_run(node, parent)
        if scope is not None:
            return R.iter_runs(self.runs_root, scope.linked_run_ids())
        return R.iter_runs(self.runs_root)

    def _needed_match(self, node: PlanStep, parent: Optional[R.Run]) -> Optional[R.Run]:
        op = node.operation
        model = op.model.name if op.model else ""
        want = {k: v for k, v in node.flags.items() if not k.startswith("operation:")}
        best = None
        for r in self._scope(node, parent):
            o = r.opref or {}
            if o.get("op") != op.name or o.get("model", "") != model or r.status != "completed":
                continue
            have = {k: v for k, v in (r.get("flags") or {}).items() if not k.startswith("operation:")}
            if have == want and (best is None or r.timestamp > best.timestamp):
                best = r
        return best

    def _resolve_deps(self, node: PlanStep, run: R.Run, parent: Optional[R.Run], ancestors: list):
        """Resolve `requires`: operation and file sources (others are refused by the plan)."""
        op = node.operation
        deps_attr: dict = {}
        dep_flags: dict = {}
        manifest: list = []
        for res_name, sources in node.deps:
            announced = False
            for src_name, attrs, src in sources:
                if src.kind == "operation":
                    spec = str(src.spec)
                    fname = attrs.get("flag-name")
                    flag_name = None if fname is False else (
                        fname if isinstance(fname, str) else src_name)
                    pinned = node.flags.get(flag_name) if flag_name else None
                    upstream = self._find_upstream(spec, op, node, parent, pinned)
                    if upstream is None:
                        if pinned is None:
                            self._say(f"WARNING: cannot find a suitable run for required resource "
                                      f"'{res_name}'", ancestors)
                        self._say(f"Resolving {res_name}", ancestors)
                        opname = spec.split(":")[-1]
                        raise _StepFailed(1, f"run failed because a dependency was not met: could "
                                             f"not resolve '{src_name}' in {res_name} resource: no "
                                             f"suitable run for {opname}")
                    if not announced:
                        self._say(f"Resolving {res_name}", ancestors)
                        announced = True
                    self._say(f"Using run {upstream.id} for {src_name}", ancestors)
                    entries = self._upstream_entries(upstream, attrs)
                    paths, lines = self._place(entries, run, attrs, src_name)
                    manifest += lines
                    deps_attr.setdefault(res_name, {})[src_name] = {
                        "config": upstream.id, "paths": paths, "uri": f"operation:{spec}"}
                    if flag_name:
                        dep_flags[flag_name] = upstream.id
                elif src.kind == "file":
                    if not announced:
                        self._say(f"Resolving {res_name}", ancestors)
                        announced = True
                    rel = str(src.spec)
                    path = os.path.join(self.project_dir, rel)
                    if not os.path.exists(path):
                        raise _StepFailed(1, f"run failed because a dependency was not met: could "
                                             f"not resolve '{src_name}' in {res_name} resource: "
                                             f"cannot find source file '{rel}'")
                    entries = _file_entries(path, attrs)
                    paths, lines = self._place(entries, run, attrs, src_name, origin=self.project_dir)
                    manifest += lines
                    deps_attr.setdefault(res_name, {})[src_name] = {
                        "paths": paths, "uri": f"file:{rel}"}
                # module sources: nothing to place (Guild only checks the import)
        return deps_attr, dep_flags, manifest

    def _upstream_entries(self, upstream: R.Run, attrs: dict) -> list:
        """(absolute path, path relative to the upstream run) of the files an operation
        dependency provides: the upstream's own outputs, not its source or dependencies."""
        select = _as_list(attrs.get("select"))
        source = upstream.source_paths()
        out = []
        if select:
            for rel in _walk_rel(upstream.path, skip_top=(".guild",)):
                if rel in source:
                    continue
                if any(_select_match(p, rel) for p in select):
                    out.append((os.path.join(upstream.path, rel), rel))
        else:
            for name in sorted(os.listdir(upstream.path)):
                if name.startswith(".guild") or name in source:
                    continue
                p = os.path.join(upstream.path, name)
                if os.path.islink(p):
                    continue
                out.append((p, name))
        return out

    def _place(self, entries: list, run: R.Run, attrs: dict, src_name: str,
               origin: Optional[str] = None) -> tuple[list, list]:
        """Copy (default) or link dependency files into the run dir; manifest `d` lines."""
        target_path = attrs.get("target-path") or attrs.get("path") or ""
        target_type = attrs.get("target-type") or "copy"
        if target_type not in ("copy", "link"):
            raise _StepFailed(1, f"unsupported target-type '{target_type}' in source {src_name} "
                                 "(expected 'link' or 'copy')")
        preserve = bool(attrs.get("preserve-path"))
        rename = attrs.get("rename")
        paths, lines = [], []
        for src, rel in entries:
            base = _renamed(os.path.basename(rel), rename)
            if preserve:  # Guild: the source's dir relative to its origin (project / run)
                sub = os.path.relpath(os.path.dirname(src), origin) if origin is not None \
                    else os.path.dirname(rel)
                sub = "" if sub == "." else sub
            else:
                sub = target_path
            dest_rel = os.path.normpath(os.path.join(sub, base)) if sub else base
            dst = os.path.join(run.path, dest_rel)
            os.makedirs(os.path.dirname(dst) or run.path, exist_ok=True)
            if os.path.lexists(dst):
                if os.path.isdir(dst) and not os.path.islink(dst):
                    shutil.rmtree(dst)
                else:
                    os.remove(dst)
            if target_type == "link":
                fslinks.symlink(os.path.relpath(src, os.path.dirname(dst)), dst)
            elif os.path.isdir(src):
                shutil.copytree(src, dst, symlinks=True)
            else:
                shutil.copy2(src, dst)
            paths.append(os.path.relpath(src, run.path))
            label = src_name if origin is None else f"file:{os.path.relpath(src, origin)}"
            sha = R.file_sha1(src) if os.path.isfile(src) else "-"
            lines.append(f"d {_q(dest_rel)} {sha} {_q(label)}")
        return paths, lines

    def _find_upstream(self, spec: str, op, node: PlanStep, parent: Optional[R.Run],
                       pinned: Any) -> Optional[R.Run]:
        candidates = self._scope(node, parent) if pinned is None else R.iter_runs(self.runs_root)
        alts = [a.strip() for a in spec.split(",") if a.strip()]
        def matches(r: R.Run) -> bool:
            o = r.opref or {}
            for alt in alts:
                if ":" in alt:
                    m, _, name = alt.rpartition(":")
                else:
                    m, name = (op.model.name if op.model else ""), alt
                try:
                    if o.get("model", "") == m and re.fullmatch(name, o.get("op", "")):
                        return True
                except re.error:
                    if o.get("model", "") == m and o.get("op") == name:
                        return True
            return False
        best = None
        for r in candidates:
            if pinned is not None:
                if not r.id.startswith(str(pinned)) or not matches(r):
                    continue
                return r
            if not matches(r):
                continue
            if r.status not in ("completed", "running", "terminated"):
                continue
            if best is None or r.timestamp > best.timestamp:
                best = r
        return best


def _encoded(val, mapping):
    """Guild's `arg-encoding` / `env-encoding` lookup: (True, text) when `val` is mapped."""
    if isinstance(mapping, dict):
        try:
            if val in mapping:
                return True, fv.encode_arg(mapping[val])
        except TypeError:  # unhashable value
            pass
    return False, None


def _encode_arg(val, attrs: dict) -> str:
    """A flag value as a command argument: the flag's `arg-encoding`, else argparse style."""
    hit, text = _encoded(val, attrs.get("arg-encoding"))
    return text if hit else fv.encode_arg(val)


def _encode_env(val, attrs: dict) -> str:
    """A flag value in the environment: `env-encoding`, else as an argument (Guild's
    _encode_env_val falls back to `arg-encoding`)."""
    hit, text = _encoded(val, attrs.get("env-encoding"))
    return text if hit else _encode_arg(val, attrs)


def _as_list(v) -> list:
    if v is None:
        return []
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


def _select_match(pattern: str, rel: str) -> bool:
    try:
        return re.match(pattern + "$", rel) is not None
    except re.error:
        return False


def _walk_rel(root: str, skip_top=()) -> list:
    """Relative paths of files and directories under root (Guild's _all_dir_files)."""
    out = []
    for cur, dirs, files in os.walk(root):
        rel_root = os.path.relpath(cur, root)
        rel_root = "" if rel_root == "." else rel_root
        if not rel_root:
            dirs[:] = [d for d in dirs if d not in skip_top]
        for name in sorted(dirs) + sorted(files):
            out.append(os.path.join(rel_root, name) if rel_root else name)
    return sorted(out)


def _file_entries(path: str, attrs: dict) -> list:
    if not os.path.isdir(path):
        return [(path, os.path.basename(path))]
    select = _as_list(attrs.get("select"))
    if not select:  # the directory itself (copied or linked whole)
        return [(path, os.path.basename(os.path.normpath(path)))]
    chosen = []
    for rel in _walk_rel(path):
        if any(_select_match(p, rel) for p in select):
            chosen.append((os.path.join(path, rel), rel))
    return chosen


def _renamed(name: str, spec) -> str:
    """Guild's `rename`: "PATTERN REPL", "NAME", {pattern, repl}, or a list of those."""
    if not spec:
        return name
    for item in spec if isinstance(spec, list) else [spec]:
        if isinstance(item, dict):
            pat, repl = item.get("pattern"), item.get("repl", "")
        elif isinstance(item, str):  # shlex-split, as Guild (`a(.*) renamed\\1` -> renamed1)
            try:
                parts = shlex.split(item)
            except ValueError:
                continue
            if len(parts) == 1:
                pat, repl = ".*", parts[0]
            elif len(parts) == 2:
                pat, repl = parts
            else:
                continue
        else:
            continue
        try:
            new = re.sub(str(pat), str(repl), name, count=1)
        except re.error:
            continue
        if new != name:
            return new
    return name


class _CheckFailed(Exception):
    pass


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError as e:
        raise _CheckFailed(f"error reading run output from {path}") from e


def _q(s: str) -> str:
    return shlex.quote(s) if re.search(r"\s", s) else s


def _jsonable_flags(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, (str, int, float, bool, list, dict)) or v is None:
            out[k] = v
        else:
            out[k] = str(v)
    return out


def _group_alive(proc: subprocess.Popen) -> bool:
    """True while the step or anything left in its process group runs."""
    if os.name == "nt":
        return proc.poll() is None
    try:
        os.killpg(proc.pid, 0)
        return True
    except (ProcessLookupError, PermissionError, OSError):
        return False
