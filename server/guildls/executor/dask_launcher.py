"""Batch trials on an existing Dask distributed cluster (`guildls run ... --dask ADDRESS`).

Optional: needs `dask[distributed]` (`pip install 'guildls[dask]'`) here and on the workers,
and nothing else in guildls imports it.

How a trial runs:
- the runner prepares the trial's run directory as for a local trial (source copy, attrs,
  dependencies) under GUILD_HOME, which the workers must share at the same path (checked
  before anything runs: a probe file written here must be visible and the runs directory
  writable from every worker, else the batch is refused);
- `_remote_trial` is submitted (one task per trial, never retried): on a worker it starts
  the trial's command as a subprocess in its own session, with cwd = the run directory, and
  sends `started`, output chunks and the exit code back through a Dask `Queue`; the runner
  writes them into the records (the one writer of run records);
- stop: a Dask `Variable` per trial tells the worker to SIGTERM the trial's process group
  (SIGKILL after 3 s); trials not started yet are cancelled;
- a worker that dies mid-trial: Dask would run the task again elsewhere; the first thing a
  task does is to claim its trial (a `Variable`), so a second attempt reports "the Dask
  worker ... died" instead of running the trial twice; the trial's subprocess gets SIGTERM
  when its worker dies (Linux parent-death signal);
- the scheduler unreachable: refused before any run; going away mid-batch: each waiting
  trial is recorded `error` with "lost the Dask scheduler" within `lost_after` seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from typing import Any, Callable, Optional

KILL_GRACE = 3.0


class DaskError(Exception):
    """Dask cannot be used: the message says why and what to do."""


def _import_distributed():
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise DaskError("--dask needs Dask distributed, which is not installed: "
                        "pip install 'guildls[dask]'")
    return distributed


class DaskLauncher:
    def __init__(self, client, address: str, lost_after: float = 20.0):
        self.client = client
        self.address = address
        self.lost_after = lost_after

    @classmethod
    def connect(cls, address: str, runs_root: str, timeout: float = 10.0) -> "DaskLauncher":
        distributed = _import_distributed()
        home = os.path.dirname(runs_root)
        if not os.path.isdir(home):
            raise DaskError(f"directory '{home}' does not exist")
        try:
            client = distributed.Client(address, timeout=timeout, set_as_default=False)
        except Exception as e:  # OSError, TimeoutError, ValueError (bad address) ...
            raise DaskError(f"cannot reach the Dask scheduler at {address}: "
                            f"{type(e).__name__}: {e}") from None
        launcher = cls(client, address)
        try:
            launcher.check_shared(runs_root)
        except BaseException:
            launcher.close()
            raise
        return launcher

    def close(self) -> None:
        try:
            self.client.close(timeout=5)
        except Exception:
            pass

    def check_shared(self, runs_root: str) -> None:
        """Refuse unless every worker sees `runs_root` (same path) and can write there."""
        try:
            os.makedirs(runs_root, exist_ok=True)
            token = uuid.uuid4().hex
            probe = os.path.join(runs_root, f".guildls-dask-probe-{token}")
            with open(probe, "w") as f:
                f.write(token)
        except OSError as e:
            raise DaskError(f"cannot write runs under {runs_root}: {e.strerror or e}")
        try:
            try:
                workers = self.client.scheduler_info().get("workers", {})
            except Exception as e:
                raise DaskError(f"cannot reach the Dask scheduler at {self.address}: {e}")
            if not workers:
                raise DaskError(f"the Dask cluster at {self.address} has no workers")
            try:
                answers = self.client.run(_probe, probe, token, runs_root)
            except Exception as e:
                raise DaskError(f"cannot run on the Dask workers of {self.address}: {e}")
            bad = {w: why for w, why in answers.items() if why}
            if bad:
                w, why = sorted(bad.items())[0]
                raise DaskError(
                    f"Dask worker {w} cannot use the runs directory {runs_root}: {why}. "
                    "Trials write their runs under GUILD_HOME, which every worker must share "
                    "at the same path (e.g. a network file system): set GUILD_HOME to such a "
                    "folder" + (f" ({len(bad)} of {len(answers)} workers)" if len(bad) > 1 else ""))
        finally:
            try:
                os.remove(probe)
            except OSError:
                pass

    # -- one trial ---------------------------------------------------------------------------
    def run(self, *, run_id: str, cmd: list, cwd: str, env: dict,
            on_chunk: Callable[[int, bytes], None],
            on_started: Callable[[str, Optional[int]], None],
            stopping: threading.Event) -> tuple[int, Optional[str]]:
        """Run one trial on the cluster; returns (exit code, message or None). Never hangs:
        a lost scheduler ends the wait within `lost_after` seconds."""
        distributed = _import_distributed()
        names = {"queue": f"guildls-out-{run_id}", "stop": f"guildls-stop-{run_id}",
                 "claim": f"guildls-claim-{run_id}"}
        try:
            queue = distributed.Queue(names["queue"], client=self.client)
            stop_var = distributed.Variable(names["stop"], client=self.client)
            # set before the task starts, so the worker's reads answer at once (a read of an
            # unset Variable waits for its timeout)
            stop_var.set(False)
            distributed.Variable(names["claim"], client=self.client).set("")
            fut = self.client.submit(_remote_trial, run_id, list(cmd), cwd, dict(env), names,
                                     key=f"guildls-trial-{run_id}", pure=False, retries=0)
        except Exception as e:
            return 1, f"cannot submit the trial to the Dask scheduler at {self.address}: {e}"
        started = False
        worker_addr: Optional[str] = None
        checked_at = time.time()
        code: Optional[int] = None
        stop_sent_at: Optional[float] = None
        quiet_since = time.time()
        message = None
        try:
            while True:
                if stopping.is_set() and stop_sent_at is None:
                    stop_sent_at = time.time()
                    try:
                        stop_var.set(True)
                        if not started:
                            fut.cancel()
                    except Exception:
                        pass
                if stop_sent_at is not None and not started and fut.done():
                    return -15, None
                if stop_sent_at is not None and time.time() - stop_sent_at > KILL_GRACE + 10:
                    return -15, "the Dask worker did not confirm that the trial stopped"
                try:
                    msg = queue.get(timeout=0.2)
                except Exception as e:  # TimeoutError, or a closed connection
                    if not _is_timeout(e) or self.client.status not in ("running", "connecting"):
                        if time.time() - quiet_since > self.lost_after or \
                                self.client.status in ("closed", "closing"):
                            return (-15 if stopping.is_set() else 1,
                                    f"lost the Dask scheduler at {self.address}: "
                                    f"{type(e).__name__}: {e}")
                    if self.client.status != "running":
                        if time.time() - quiet_since > self.lost_after:
                            return (-15 if stopping.is_set() else 1,
                                    f"lost the Dask scheduler at {self.address}")
                        continue
                    quiet_since = time.time() if fut.status == "pending" else quiet_since
                    if started and time.time() - checked_at > 2.0:
                        checked_at = time.time()
                        if not self._worker_alive(worker_addr):
                            return (-15 if stopping.is_set() else 1,
                                    f"the Dask worker running this trial ({worker_addr}) died")
                    if fut.done():
                        code, message = _future_outcome(fut, started)
                        if code is not None:
                            return code, message
                    continue
                quiet_since = time.time()
                kind = msg[0]
                if kind == "started":
                    started, worker_addr = True, msg[1]
                    on_started(msg[1], msg[2])
                    if stopping.is_set():
                        stop_var.set(True)
                elif kind == "out":
                    on_chunk(msg[1], msg[2])
                elif kind == "exit":
                    return int(msg[1]), msg[2] if len(msg) > 2 else None
        finally:
            for name in ("stop", "claim"):
                try:
                    distributed.Variable(names[name], client=self.client).delete()
                except Exception:
                    pass
            try:
                queue.close()
            except Exception:
                pass


    def _worker_alive(self, address: Optional[str]) -> bool:
        try:
            return address in self.client.scheduler_info().get("workers", {})
        except Exception:
            return True  # the scheduler question is answered by the lost-scheduler rule


def _is_timeout(e: BaseException) -> bool:
    return isinstance(e, TimeoutError) or type(e).__name__ in ("TimeoutError",)


def _future_outcome(fut, started: bool) -> tuple[Optional[int], Optional[str]]:
    """A finished task whose `exit` message may not have arrived yet; None: keep reading."""
    if fut.status == "finished":
        try:
            res = fut.result(timeout=5)
        except Exception:
            return None, None
        if isinstance(res, dict) and res.get("message"):
            return int(res.get("code", 1)), res["message"]
        return None, None  # the exit message is on its way
    if fut.status == "cancelled":
        return -15, None
    try:
        exc = fut.exception(timeout=5)
    except Exception as e:
        exc = e
    name = type(exc).__name__
    if name == "KilledWorker":
        return 1, "the Dask worker running this trial died"
    return 1, f"the trial failed on the Dask cluster: {name}: {exc}"


# -- on the workers ----------------------------------------------------------------------------

def _probe(probe: str, token: str, runs_root: str) -> Optional[str]:
    """On each worker: None when the probe file is visible and the folder writable."""
    try:
        with open(probe) as f:
            if f.read() != token:
                return "it holds different files (not the same folder)"
    except OSError as e:
        return f"{probe} is not visible there ({e.strerror or e})"
    if not os.access(runs_root, os.W_OK | os.X_OK):
        return "it is not writable there"
    return None


def _parent_death_signal():
    """In the trial's child: SIGTERM it when the worker that started it dies (Linux)."""
    os.setsid()
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _remote_trial(run_id: str, cmd: list, cwd: str, env: dict, names: dict) -> dict:
    """Runs on a Dask worker: the trial as a subprocess, its output and exit to the queue."""
    import distributed

    worker = distributed.get_worker()
    queue = distributed.Queue(names["queue"])
    claim = distributed.Variable(names["claim"])
    stop_var = distributed.Variable(names["stop"])
    try:
        previous = claim.get(timeout=10)  # "" until a worker claims the trial
    except Exception:
        previous = None
    if previous:
        msg = (f"the Dask worker running this trial ({previous}) died; the trial is not run "
               "again")
        queue.put(("exit", 1, msg))
        return {"code": 1, "message": msg}
    claim.set(worker.address)
    if _stop_requested(stop_var):
        queue.put(("exit", -15, None))
        return {"code": -15}
    if not os.path.isdir(cwd):
        msg = f"run directory {cwd} is not visible on Dask worker {worker.address}"
        queue.put(("exit", 1, msg))
        return {"code": 1, "message": msg}
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=_parent_death_signal)
    except OSError as e:
        msg = f"{e.strerror or e}: {cmd[0]} (on Dask worker {worker.address})"
        queue.put(("exit", 1, msg))
        return {"code": 1, "message": msg}
    queue.put(("started", worker.address, proc.pid))

    def pump(pipe, stream):
        while True:
            try:
                data = os.read(pipe.fileno(), 65536)
            except OSError:
                break
            if not data:
                break
            try:
                queue.put(("out", stream, data))
            except Exception:
                pass
        pipe.close()

    readers = [threading.Thread(target=pump, args=(proc.stdout, 0), daemon=True),
               threading.Thread(target=pump, args=(proc.stderr, 1), daemon=True)]
    for t in readers:
        t.start()
    killed_at = None
    while proc.poll() is None:
        if killed_at is None and _stop_requested(stop_var):
            killed_at = time.time()
            _signal(proc, signal.SIGTERM)
        elif killed_at is not None and time.time() - killed_at > KILL_GRACE:
            _signal(proc, signal.SIGKILL)
        try:
            proc.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
    for t in readers:
        t.join(1.0)
    code = proc.returncode
    if killed_at is not None and code != 0:
        code = -15
    queue.put(("exit", code, None))
    return {"code": code}


def _stop_requested(stop_var) -> bool:
    try:
        return bool(stop_var.get(timeout=2))  # set (False) by the runner before submitting
    except Exception:
        return False


def _signal(proc, sig) -> None:
    try:
        os.killpg(proc.pid, sig)
    except OSError:
        pass
