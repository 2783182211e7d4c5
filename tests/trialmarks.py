"""Trials that record when they run, for the batch and Dask tests (tests/executor: the
`trial_marks` fixture), a run-started counter and a condition wait (one copy, shared)."""

import os
import threading
import time


# each trial writes MARKS/<run id>.start and .end (the time first, then the file appears,
# atomically) and in between waits - a condition, never a fixed sleep - until WANT trials have
# started (WANT=99: until stopped) or MARKS/release exists
WAITER = """
import os, sys, time
marks = os.environ["MARKS"]
me = os.environ["RUN_ID"]
def mark(kind):
    t = repr(time.time())
    open(os.path.join(marks, me + ".tmp"), "w").write(t)
    os.replace(os.path.join(marks, me + ".tmp"), os.path.join(marks, me + "." + kind))
mark("start")
want = int(os.environ.get("WANT", "2"))
deadline = time.time() + 120
while time.time() < deadline:
    started = [f for f in os.listdir(marks) if f.endswith(".start")]
    if len(started) >= want or os.path.exists(os.path.join(marks, "release")):
        break
    time.sleep(0.02)
mark("end")
print("done", me)
"""


class TrialMarks:
    """The operation `w` (flag `i`) of a project runs WAITER; its marks are read here."""

    def __init__(self, project, marks_dir):
        self.project = project
        self.dir = str(marks_dir)
        project.write("wait.py", WAITER)
        project.guildfile("w:\n  main: wait\n  flags: {i: 0}\n")

    def env(self, want) -> dict:
        """The variables a run of `w` needs (add them to the project's env)."""
        return {"MARKS": self.dir, "WANT": str(want)}

    def files(self, kind: str) -> list:
        return [f for f in os.listdir(self.dir) if f.endswith("." + kind)]

    def intervals(self) -> dict:
        """run id -> {"start": t, "end": t} as the trials recorded them."""
        out: dict = {}
        for f in os.listdir(self.dir):
            rid, kind = f.split(".")
            if kind in ("start", "end"):
                with open(os.path.join(self.dir, f)) as fh:
                    out.setdefault(rid, {})[kind] = float(fh.read())
        return out

    def first_two_overlap(self) -> bool:
        """The two trials that started first ran at the same time."""
        spans = sorted((v["start"], v["end"]) for v in self.intervals().values())
        (s1, e1), (s2, e2) = spans[0], spans[1]
        return s2 < e1 and s1 < e2


class RunsStarted:
    """A Runner's `on_event`: `ready` is set once `count` runs have started with `key` in
    their run-started event ("pid" for local processes, "host" for a Dask worker's)."""

    def __init__(self, count, key):
        self.count, self.key = count, key
        self.ids = []
        self.ready = threading.Event()

    def __call__(self, ev):
        if ev.get("type") == "run-started" and ev.get(self.key):
            self.ids.append(ev["runId"])
            if len(self.ids) >= self.count:
                self.ready.set()


def wait_until(cond, timeout=180, what="condition"):
    """Poll `cond` until it is true; fail saying `what` did not happen in `timeout` s."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
