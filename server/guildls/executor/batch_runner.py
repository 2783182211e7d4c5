"""Batch runs: a batch run plus one run per trial, in Guild 0.9.0's layout.

Layout (observed, README.md "Batches"):
- the batch run: opref `builtin:guildai 0.9.0 '' +` (grid) or `builtin:guildai 0.9.0 skopt
  random`; attrs `flags: {}`, `random_seed`, `max_trials` (when given), `objective: loss`;
  `.guild/proto/` holds the prototype run (the trial op's opref and the batch flag values,
  lists and functions as written) - `guild runs` shows the batch as `train+` from it;
- each trial is an ordinary run of the op (its own flags, label, source copy, output),
  created up front as `pending` (`.guild/PENDING`) and linked from the batch run directory as
  `<batch>/<trial id> -> ../<trial id>`;
- the batch run's output holds `INFO: [guild] Running trial <id>: <op> (<flags>)`, each trial's
  output and `ERROR: [guild] Trial <id> exited with an error (<code>) - see log for details`;
- the batch exits 0 even when trials fail, unless `--fail-on-trial-error` (then it stops with
  the failing trial's code); stopped: -15 (`terminated`).

guildls runs up to `runner.workers` trials at once (Guild: one at a time), or hands them to
`runner.trial_launcher` (dask_launcher.py). Trials that never started when the batch stops
(stop, --fail-on-trial-error) are recorded `terminated` (Guild leaves them `pending`).
"""

from __future__ import annotations

import os
import shlex
import threading
import time
from typing import Optional

from ..model import flagvals as fv

GUILD_VERSION = "0.9.0"
MAX_IN_FLIGHT = 256  # launcher trials submitted at once


def batch_opref(optimizer: str) -> str:
    model = "skopt" if optimizer == "random" else ""
    return f"builtin:guildai {GUILD_VERSION} {shlex.quote(model)} {shlex.quote(optimizer)}"


def flags_desc(flags: dict) -> str:
    """Guild's op_util.flags_desc: `a=1, b=x` (sorted, nulls left out)."""
    return ", ".join(fv.flag_assigns({k: v for k, v in flags.items() if v is not None}))


class PrefixedSink:
    """An ancestor run's output as seen from one of several trials running at once: whole
    lines only, each prefixed with the trial (`[trial 3/8] `), so streams stay readable."""

    def __init__(self, run, prefix: str):
        self.run = run
        self.id = run.id
        self.prefix = prefix.encode()
        self._buf = [b"", b""]
        self._lock = threading.Lock()

    def write_output(self, data: bytes, stream: int = 0) -> None:
        with self._lock:
            lines = (self._buf[stream] + data).split(b"\n")
            self._buf[stream] = lines.pop()
        if lines:
            self.run.write_output(b"".join(self.prefix + line + b"\n" for line in lines), stream)

    def flush(self) -> None:
        for stream in (0, 1):
            with self._lock:
                rest, self._buf[stream] = self._buf[stream], b""
            if rest:
                self.run.write_output(self.prefix + rest + b"\n", stream)


class TrialLines:
    """Output of trials that run at once, for a terminal or an editor: whole lines, each
    prefixed with its trial (`[trial 3/8] `). Feed it every runner event and output chunk;
    it calls `write(stream, text)`. Output of runs that are not trials passes unchanged."""

    def __init__(self, write):
        self.write = write
        self.prefixes: dict = {}
        self.partial: dict = {}
        self.lock = threading.Lock()

    def event(self, ev: dict) -> None:
        with self.lock:
            if ev.get("type") == "trial-started":
                self.prefixes[ev["runId"]] = f"[trial {ev['index']}/{ev['total']}] "
            elif ev.get("type") == "run-finished" and ev.get("runId") in self.prefixes:
                rid = ev["runId"]
                for stream in ("stdout", "stderr"):
                    rest = self.partial.pop((rid, stream), "")
                    if rest:
                        self.write(stream, f"{self.prefixes[rid]}{rest}\n")

    def output(self, run_id, stream: str, text: str) -> None:
        with self.lock:
            prefix = self.prefixes.get(run_id)
            if prefix is None:
                self.write(stream, text)
                return
            lines = (self.partial.pop((run_id, stream), "") + text).split("\n")
            if lines[-1]:
                self.partial[(run_id, stream)] = lines[-1]
            if len(lines) > 1:
                self.write(stream, "".join(f"{prefix}{line}\n" for line in lines[:-1]))


def run_batch(runner, node, parent, ancestors: list, depth: int):
    """Run a batch node (plan.PlanStep with `batch` and `trials`); returns the batch RunInfo."""
    from . import runner as rmod
    from .. import runs as R

    batch = node.batch
    run, info = runner._new_run(node, parent, depth)
    env = runner._common_env(run, node, parent)
    env["GUILD_OP"] = batch.optimizer
    params = runner._run_params(node, run.path if parent else None)
    params["flags"] = list(params["flags"]) + ["@" + f for f in batch.batch_files]
    params["fail_on_trial_error"] = batch.fail_on_trial_error
    params["random_seed"] = batch.random_seed
    params["optimizer"] = node.options.get("optimizer")
    extra = {"random_seed": batch.random_seed, "objective": "loss", "deps": {},
             "sourcecode_digest": None}
    if batch.max_trials:
        extra["max_trials"] = batch.max_trials
    trials_n = len(node.trials)
    chain = ancestors + [run]
    made: list = []
    try:
        R.init_common_attrs(
            run, opref=batch_opref(batch.optimizer), flags={}, user_flags={},
            cmd=[runner.python_exe, "-m", "guildls", "run", node.opspec], label=None,
            tags=node.options.get("tags") or [], env=env, run_params=params, extra=extra)
        _write_proto(runner, node, run, params)
        for t in node.trials:  # all trials exist (pending) before the first one starts
            trun = R.create_run(runner.runs_root)
            run.link_step(trun.id, trun)
            trun.mark_pending()
            trun.write_opref(runner._opref(t.operation))
            trun.write_attr("flags", t.flags)
            trun.write_attr("label", runner._label(t, t.flags))
            tinfo = rmod.RunInfo(trun.id, f"trial {len(made) + 1}", t.opspec, t.path, depth + 1)
            runner.runs.append(tinfo)
            made.append((trun, tinfo))
        runner._start_parent_run(run, info, node, depth, parent, batch=True, trials=trials_n)
        code = _run_trials(runner, node, parent, chain, depth, made)
    except BaseException:
        for trun, tinfo in made:
            if tinfo.exit_status is None:
                _cancel(runner, trun, tinfo, 1)
        runner._finish(run, info, 1)
        raise
    runner._finish(run, info, code)
    if parent is None and code != 0:
        raise rmod._StepFailed(code)
    return info


def _write_proto(runner, node, run, params) -> None:
    from .. import runs as R

    proto = R.Run(run.id, run.guild_path("proto"))
    proto.init_skel()
    flags = dict(node.trials[0].flags) if node.trials else dict(node.flags)
    flags.update(node.batch.varying)
    proto.write_opref(runner._opref(node.operation))
    proto.write_attr("flags", flags)
    proto.write_attr("user_flags", node.user_flags)
    proto.write_attr("run_params", params)
    proto.write_attr("random_seed", node.batch.random_seed)
    if node.batch.batch_files:
        proto.write_attr("trials", [t.user_flags for t in node.trials])


def _cancel(runner, trun, tinfo, code: int) -> None:
    """A trial that never ran: recorded terminated (or error), never left pending."""
    trun.clear_pending()
    try:
        runner._finish(trun, tinfo, code)
    except OSError:
        pass


def _run_trials(runner, node, parent, chain: list, depth: int, made: list) -> int:
    from .runner import TERMINATED

    batch = node.batch
    n = len(made)
    launcher = runner.trial_launcher
    parallel = launcher is not None or runner.workers > 1
    # local trials: up to `workers` run at once, and as many more are prepared meanwhile (run
    # directory, source copy, attributes) so that a freed slot starts the next one at once
    slots = min(n, MAX_IN_FLIGHT) if launcher is not None else min(n, runner.workers)
    threads_n = slots if launcher is not None else min(n, 2 * slots)
    lock = threading.Lock()
    state = {"next": 0, "running": 0, "done": 0, "failed": None, "free": slots, "turn": 0}
    halt = threading.Event()
    slot_cond = threading.Condition()  # trials take free slots in their order
    passed: set = set()  # trials past their turn (started, gave up, or failed to prepare)

    def pass_turn(i: int) -> None:  # with slot_cond held
        passed.add(i)
        while state["turn"] in passed:
            state["turn"] += 1
        slot_cond.notify_all()

    def take_slot(i: int) -> bool:
        with slot_cond:
            while not (state["turn"] == i and state["free"] > 0):
                if runner.stopping or halt.is_set():
                    pass_turn(i)
                    return False
                slot_cond.wait(0.2)
            state["free"] -= 1  # its turn passes once it is announced (ready)
            return True

    def free_slot(i: int, held: bool) -> None:
        with slot_cond:
            if held:
                state["free"] += 1
            pass_turn(i)

    def one(i: int) -> None:
        trial, (trun, tinfo) = node.trials[i], made[i]
        sinks = [PrefixedSink(a, f"[trial {i + 1}/{n}] ") for a in chain] if parallel \
            else chain
        began = [False]  # started (ready() said yes)
        gave_up = [False]  # prepared, then stopped (or the batch halted) before it started
        held = [False]

        def say(text: str) -> None:  # to the batch's output, and to the user as the trial's
            data = (text + "\n").encode()
            for s in sinks:
                s.write_output(data, 1)
            if runner.on_output:
                try:
                    runner.on_output(trun.id, "stderr", text + "\n")
                except Exception:
                    pass

        def running_line() -> None:
            say(f"INFO: [guild] Running trial {trun.id}: {trial.opspec} "
                f"({flags_desc(trial.flags)})")

        def ready() -> bool:  # prepared (still pending): wait for a free slot, then start
            if launcher is None:
                held[0] = take_slot(i)
            trun.clear_pending()
            if runner.stopping or halt.is_set():
                gave_up[0] = True
                return False
            with lock:
                state["running"] += 1
                running = state["running"]
            began[0] = True
            runner._emit({"type": "trial-started", "batchId": chain[-1].id, "runId": trun.id,
                          "index": i + 1, "total": n, "running": running,
                          "flags": fv.flag_assigns(trial.user_flags)})
            running_line()
            if launcher is None:
                with slot_cond:  # the next trial may start: this one is announced
                    pass_turn(i)
            return True

        def finish(res) -> None:
            if gave_up[0]:  # recorded terminated, as trials never started are: nothing to say
                return
            trun.clear_pending()  # (preparing it failed: recorded, not pending)
            if not began[0]:
                running_line()
            code = res.exit_status
            if code == TERMINATED or (runner.stopping and code not in (0, None)):
                say(f"INFO: [guild] Trial {trun.id} was terminated")
            elif code not in (0, None):
                say(f"ERROR: [guild] Trial {trun.id} exited with an error ({code}) - "
                    "see log for details")
                if batch.fail_on_trial_error:
                    with lock:
                        first = state["failed"] is None
                        if first:
                            state["failed"] = code
                    if first:
                        runner._say("ERROR: [guild] Stopping batch because a trial failed",
                                    chain)
                    halt.set()
            for s in sinks:
                if isinstance(s, PrefixedSink):
                    s.flush()
            with lock:
                state["done"] += 1
                state["running"] -= 1 if began[0] else 0
                done, running = state["done"], state["running"]
            runner._emit({"type": "trial-finished", "batchId": chain[-1].id, "runId": trun.id,
                          "index": i + 1, "total": n, "done": done, "running": running,
                          "status": tinfo.status})

        try:
            finish(runner._run_op(trial, parent, sinks, depth + 1, trial=(trun, tinfo),
                                  ready=ready))
        finally:  # the slot is free once the batch knows whether to go on
            if launcher is None:
                free_slot(i, held[0])

    def worker() -> None:
        while True:
            with lock:
                if runner.stopping or halt.is_set() or state["next"] >= n:
                    return
                i = state["next"]
                state["next"] += 1
            one(i)

    if threads_n <= 1:
        worker()
    else:
        threads = [threading.Thread(target=worker, name=f"guildls-trial-{k}", daemon=True)
                   for k in range(threads_n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for trun, tinfo in made:  # never started: stopped or --fail-on-trial-error
        if tinfo.exit_status is None:
            _cancel(runner, trun, tinfo, TERMINATED)
    if runner.stopping:
        return TERMINATED
    if state["failed"] is not None:
        return state["failed"]
    return 0


def run_launched(runner, node, run, info, cmd, env, ancestors, depth, parent):
    """A trial run by `runner.trial_launcher` (e.g. Dask): output and status come back
    through callbacks while it runs; the run record is written here, by the runner only."""
    from .runner import TERMINATED
    from ..runs.scalars import ScalarWriter, patterns_for

    sinks = ancestors + [run]
    scalars = ScalarWriter(run.guild_path(), patterns_for(node.operation.value("output-scalars")))
    decoders = {}

    def on_chunk(stream: int, data: bytes) -> None:
        for s in sinks:
            s.write_output(data, stream)
        with runner._lock:
            scalars.feed(data, stream)
        if runner.on_output:
            import codecs
            name = "stdout" if stream == 0 else "stderr"
            dec = decoders.setdefault(stream, codecs.getincrementaldecoder("utf-8")(errors="replace"))
            text = dec.decode(data)
            if text:
                try:
                    runner.on_output(run.id, name, text)
                except Exception:
                    pass

    def on_started(where: str, pid: Optional[int]) -> None:
        run.write_attr("host", where)
        run.write_lock(os.getpid())  # running while this runner lives (Guild reads LOCK)
        info.started = time.time()
        run.mark_started()
        info.status = "running"
        runner._emit({"type": "run-started", "runId": run.id, "name": node.name,
                      "operation": node.opspec, "depth": depth, "pid": pid, "host": where,
                      "parentId": parent.id if parent else None})

    code, message = runner.trial_launcher.run(
        run_id=run.id, cmd=cmd, cwd=run.path, env=env, on_chunk=on_chunk,
        on_started=on_started, stopping=runner._stop)
    try:
        scalars.close()
    except OSError:
        pass
    if message:
        runner._say(f"guild: {message}", sinks)
    if runner.stopping and code != 0:
        code = TERMINATED
    runner._finish(run, info, code)
    return info
