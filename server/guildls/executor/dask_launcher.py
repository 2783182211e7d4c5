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
  sends `started`, output chunks and the exit code to the client as events on one topic per
  launcher (`Worker.log_event` -> `Client.subscribe_topic`: pushed, no scheduler round trip
  per message or per trial); the runner writes them into the records (the one writer of run
  records). The task's result carries the exit code too;
- stop: once per launcher, `Client.run` tells every worker to SIGTERM the process groups of
  this launcher's trials (SIGKILL after 3 s) and to start none of them any more; trials not
  started yet are cancelled;
- a worker that dies mid-trial: Dask would run the task again elsewhere; the first thing a
  task does is to claim its trial (a `dask-claim` file created exclusively in the trial's
  `.guild`, removed by the runner afterwards), so a second attempt reports "the Dask worker
  ... died" instead of running the trial twice; the trial's subprocess gets SIGTERM when its
  worker dies (Linux parent-death signal);
- the scheduler unreachable: refused before any run; going away mid-batch: each waiting
  trial is recorded `error` with "lost the Dask scheduler" within `lost_after` seconds.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
import uuid
from typing import Any, Callable, Optional

KILL_GRACE = 3.0
EXIT_GRACE = 2.0  # a finished task's last messages may arrive after its result
CLAIM = "dask-claim"  # in a trial's .guild: the worker that took it (never run twice)


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
        self.token = uuid.uuid4().hex  # this launcher's trials, on the workers
        self.topic = f"guildls-trials-{self.token}"
        self._inboxes: dict = {}  # run id -> queue of messages from its worker
        self._lock = threading.Lock()
        self._subscribed = False
        self._stop_sent = False

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
            if self._subscribed:
                self.client.unsubscribe_topic(self.topic)
        except Exception:
            pass
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
            raise DaskError(f"cannot write runs in {runs_root}: {e.strerror or e}")
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
    def _subscribe(self) -> None:
        """Once per launcher: the workers' messages about our trials arrive pushed on one event
        topic (no scheduler round trip per message) and go to each trial's local queue."""
        with self._lock:
            if self._subscribed:
                return
            self.client.subscribe_topic(self.topic, self._on_event)
            self._subscribed = True

    def _on_event(self, event) -> None:  # on the client's event loop: keep it short
        try:
            msg = event[1]
            q = self._inboxes.get(msg[0])
        except Exception:
            return
        if q is not None:
            q.put(msg[1:])

    def _stop_everywhere(self) -> None:
        """Once: every worker terminates this launcher's trials (and any that start later)."""
        with self._lock:
            if self._stop_sent:
                return
            self._stop_sent = True
        try:
            self.client.run(_stop_trials, self.token, wait=False)
        except Exception:
            pass

    def run(self, *, run_id: str, cmd: list, cwd: str, env: dict,
            on_chunk: Callable[[int, bytes], None],
            on_started: Callable[[str, Optional[int]], None],
            stopping: threading.Event) -> tuple[int, Optional[str]]:
        """Run one trial on the cluster; returns (exit code, message or None). Never hangs:
        a lost scheduler ends the wait within `lost_after` seconds."""
        inbox: "queue.Queue" = queue.Queue()
        self._inboxes[run_id] = inbox
        try:
            self._subscribe()
            fut = self.client.submit(_remote_trial, run_id, list(cmd), cwd, dict(env),
                                     self.topic, self.token, key=f"guildls-trial-{run_id}",
                                     pure=False, retries=0)
        except Exception as e:
            self._inboxes.pop(run_id, None)
            return 1, f"cannot submit the trial to the Dask scheduler at {self.address}: {e}"
        ended = False
        try:
            code, message, ended = self._wait(fut, inbox, on_chunk, on_started, stopping)
            return code, message
        finally:
            self._inboxes.pop(run_id, None)
            if ended:
                try:
                    os.remove(os.path.join(cwd, ".guild", CLAIM))
                except OSError:
                    pass
            else:  # given up (worker died, scheduler lost): never to run again elsewhere,
                try:  # and its claim stays, so a task Dask already moved does not run it
                    fut.cancel()
                except Exception:
                    pass

    def _wait(self, fut, inbox, on_chunk, on_started, stopping) -> tuple[int, Optional[str], bool]:
        """(exit code, message, whether the task ended: False when given up on)"""
        started = False
        worker_addr: Optional[str] = None
        checked_at = time.time()
        stop_sent_at: Optional[float] = None
        quiet_since = time.time()
        finished_at: Optional[float] = None
        while True:
            if stopping.is_set() and stop_sent_at is None:
                stop_sent_at = time.time()
                self._stop_everywhere()
                if not started:
                    try:
                        fut.cancel()
                    except Exception:
                        pass
            if stop_sent_at is not None and not started and fut.done():
                return -15, None, True
            if stop_sent_at is not None and time.time() - stop_sent_at > KILL_GRACE + 10:
                return -15, "the Dask worker did not confirm that the trial stopped", False
            try:
                msg = inbox.get(timeout=0.2)
            except queue.Empty:
                status = self.client.status
                if status in ("closed", "closing"):
                    return (-15 if stopping.is_set() else 1,
                            f"lost the Dask scheduler at {self.address}", False)
                if status != "running":
                    if time.time() - quiet_since > self.lost_after:
                        return (-15 if stopping.is_set() else 1,
                                f"lost the Dask scheduler at {self.address}", False)
                    continue
                if not started and fut.status == "pending":
                    quiet_since = time.time()  # waiting for a free worker is not being lost
                if started and time.time() - checked_at > 2.0:
                    checked_at = time.time()
                    if not self._worker_alive(worker_addr):
                        return (-15 if stopping.is_set() else 1,
                                f"the Dask worker running this trial ({worker_addr}) died", False)
                if fut.done():
                    # the task's result says how it ended; its last messages may still be on
                    # their way (they travel on another connection): wait for them a little
                    finished_at = finished_at or time.time()
                    code, message = _future_outcome(fut)
                    if code is not None and (not started or message is not None or
                                             time.time() - finished_at > EXIT_GRACE):
                        return code, message, True
                continue
            quiet_since = time.time()
            kind = msg[0]
            if kind == "started":
                started, worker_addr = True, msg[1]
                on_started(msg[1], msg[2])
            elif kind == "out":
                on_chunk(msg[1], msg[2])
            elif kind == "exit":
                return int(msg[1]), msg[2], True

    def _worker_alive(self, address: Optional[str]) -> bool:
        try:
            return address in self.client.scheduler_info().get("workers", {})
        except Exception:
            return True  # the scheduler question is answered by the lost-scheduler rule


def _future_outcome(fut) -> tuple[Optional[int], Optional[str]]:
    """(exit code, message) of a finished task; (None, None): not known yet."""
    if fut.status == "finished":
        try:
            res = fut.result(timeout=5)
        except Exception:
            return None, None
        if isinstance(res, dict):
            return int(res.get("code", 1)), res.get("message")
        return None, None
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


# on a worker: the trials it runs, by launcher token, and the tokens told to stop
_worker_lock = threading.Lock()
_worker_procs: dict = {}
_worker_stopped: set = set()


def _stop_trials(token: str) -> None:
    """On every worker (Client.run): terminate the token's trials, SIGKILL after a grace."""
    with _worker_lock:
        _worker_stopped.add(token)
        procs = list(_worker_procs.get(token, ()))
    for proc in procs:
        _signal(proc, signal.SIGTERM)

    def kill_later():
        time.sleep(KILL_GRACE)
        for proc in procs:
            if proc.poll() is None:
                _signal(proc, signal.SIGKILL)
    if procs:
        threading.Thread(target=kill_later, daemon=True).start()


def _remote_trial(run_id: str, cmd: list, cwd: str, env: dict, topic: str, token: str) -> dict:
    """Runs on a Dask worker: the trial as a subprocess; `started`, its output and its exit go
    to the client as events on `topic` (pushed, no round trip each)."""
    import distributed

    worker = distributed.get_worker()

    def send(*msg) -> None:
        try:
            worker.log_event(topic, [run_id, *msg])
        except Exception:
            pass

    def end(code: int, message: Optional[str] = None) -> dict:
        send("exit", code, message)
        return {"code": code, "message": message}

    if not os.path.isdir(cwd):
        return end(1, f"run directory {cwd} is not visible on Dask worker {worker.address}")
    # claim the trial: Dask runs a task again when its worker dies; a trial never runs twice
    try:
        fd = os.open(os.path.join(cwd, ".guild", CLAIM), os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        try:
            with open(os.path.join(cwd, ".guild", CLAIM)) as f:
                previous = f.read().strip() or "?"
        except OSError:
            previous = "?"
        return end(1, f"the Dask worker running this trial ({previous}) died; the trial is "
                      "not run again")
    except OSError as e:
        return end(1, f"cannot claim the trial in {cwd} on Dask worker {worker.address}: "
                      f"{e.strerror or e}")
    with os.fdopen(fd, "w") as f:
        f.write(worker.address)
    with _worker_lock:
        if token in _worker_stopped:
            return end(-15)
        try:
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    preexec_fn=_parent_death_signal)
        except OSError as e:
            return end(1, f"{e.strerror or e}: {cmd[0]} (on Dask worker {worker.address})")
        _worker_procs.setdefault(token, set()).add(proc)
    send("started", worker.address, proc.pid)

    def pump(pipe, stream):
        while True:
            try:
                data = os.read(pipe.fileno(), 65536)
            except OSError:
                break
            if not data:
                break
            send("out", stream, data)
        pipe.close()

    readers = [threading.Thread(target=pump, args=(proc.stdout, 0), daemon=True),
               threading.Thread(target=pump, args=(proc.stderr, 1), daemon=True)]
    for t in readers:
        t.start()
    code = proc.wait()
    for t in readers:
        t.join(1.0)
    with _worker_lock:
        stopped = token in _worker_stopped
        procs = _worker_procs.get(token)
        if procs is not None:
            procs.discard(proc)
            if not procs:
                del _worker_procs[token]
    if stopped and code != 0:
        code = -15
    return end(code)


def _signal(proc, sig) -> None:
    try:
        os.killpg(proc.pid, sig)
    except OSError:
        pass
