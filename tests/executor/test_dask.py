"""Batch trials on a real Dask cluster: a `dask scheduler` and `dask worker` processes started
as a user would, then `guildls run ... --dask tcp://...`. Needs the optional extra
`guildls[dask]` (the Makefile's test set-up installs it); skips, saying why, without it."""

import os
import signal
import socket
import subprocess
import sys
import threading

import pytest

from guildls import runs as R
from trialmarks import RunsStarted, wait_until  # tests/, on sys.path (tests/conftest.py)

try:
    import distributed  # noqa: F401
    HAVE_DASK = True
except ImportError:
    HAVE_DASK = False

pytestmark = pytest.mark.skipif(
    not HAVE_DASK, reason="dask[distributed] is not installed (pip install 'guildls[dask]'): "
    "the Dask tests cannot run")

DASK = os.path.join(os.path.dirname(sys.executable), "dask")

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, tmp, n_workers=2, worker_prefix=()):
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.procs = []
        self.tmp = tmp
        self.sched = self._start("scheduler", [DASK, "scheduler", "--host", "127.0.0.1",
                                               "--port", str(self.port), "--no-dashboard"])
        self.workers = [self.add_worker(f"w{i}", worker_prefix) for i in range(n_workers)]
        self.wait_workers(n_workers)

    def _start(self, name, cmd):
        log = open(os.path.join(self.tmp, f"{name}.log"), "w")
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(p)
        return p

    def add_worker(self, name, prefix=()):
        return self._start(name, list(prefix) + [DASK, "worker", self.address, "--nthreads",
                                                 "2", "--no-dashboard", "--name", name])

    def n_workers(self):
        from distributed import Client
        try:
            with Client(self.address, timeout=5, set_as_default=False) as c:
                return len(c.scheduler_info().get("workers", {}))
        except Exception:
            return -1

    def wait_workers(self, n):
        wait_until(lambda: self.n_workers() >= n, 240, f"{n} Dask workers")

    def kill(self, proc):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait(30)

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                self.kill(p)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(str(tmp_path_factory.mktemp("dask")))
    yield c
    c.close()


@pytest.fixture
def wproj(trial_marks):
    trial_marks.project.marks = trial_marks
    return trial_marks.project


def _cli(proj, *args, env_extra=None, timeout=300):
    env = proj.env()
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "guildls", "run", "-C", proj.root, *args],
                          env=env, capture_output=True, text=True, timeout=timeout)


def _runs(proj, ids):
    return [R.Run(i, os.path.join(proj.runs_root, i)) for i in ids]


def _batch(proj):
    for r in _runs(proj, proj.run_ids()):
        if (r.opref or {}).get("op") == "+":
            return r
    raise AssertionError("no batch run")


def test_batch_on_dask_cluster(cluster, wproj):
    r = _cli(wproj, "w", "i=[1,2,3,4]", "--dask", cluster.address, "-y",
             env_extra=wproj.marks.env(want=2))
    assert r.returncode == 0, r.stderr
    batch = _batch(wproj)
    assert batch.status == "completed"
    trials = _runs(wproj, batch.linked_run_ids())
    assert len(trials) == 4
    assert sorted(t.get("flags")["i"] for t in trials) == [1, 2, 3, 4]
    for t in trials:
        assert t.status == "completed"
        assert t.get("host", "").startswith("tcp://127.0.0.1:")  # the worker that ran it
        assert f"done {t.id}" in t.read_output()  # output came back while it ran
        assert not os.path.exists(t.guild_path("LOCK"))
    # trials ran at once on the cluster: two intervals recorded by the trials overlap
    assert wproj.marks.first_two_overlap()
    for i in (1, 2, 3, 4):
        assert f"[trial {i}/4] done " in r.stdout


def test_stop_on_dask_terminates_every_trial(cluster, wproj):
    from guildls.executor.dask_launcher import DaskLauncher
    from guildls.executor.runner import Runner

    env = wproj.env()
    env.update(wproj.marks.env(want=99))
    plan = wproj.plan("w", ["i=[1,2,3,4,5,6,7,8,9,10]"])
    launcher = DaskLauncher.connect(cluster.address, wproj.runs_root)
    started = RunsStarted(2, "host")
    runner = Runner(plan, wproj.root, wproj.path, env=env, trial_launcher=launcher,
                    on_event=started)
    holder = {}
    t = threading.Thread(target=lambda: holder.setdefault("res", runner.run()))
    t.start()
    try:
        assert started.ready.wait(240), "no trial started on the cluster"
        runner.stop()
        t.join(120)
        assert not t.is_alive(), "the batch did not stop"
    finally:
        launcher.close()
    res = holder["res"]
    assert res.exit_code < 0
    runs = _runs(wproj, [r.id for r in res.runs])
    assert len(runs) == 11
    assert [r.status for r in runs] == ["terminated"] * 11
    # the trials' processes on the workers are gone: no trial ever reaches its end marker
    wait_until(lambda: not wproj.marks.files("end"), 5)


def test_worker_dying_mid_trial(tmp_path, wproj):
    c = Cluster(str(tmp_path), n_workers=1)
    try:
        r_holder = {}
        env = wproj.marks.env(want=99)

        def go():
            r_holder["r"] = _cli(wproj, "w", "i=[1,2]", "--dask", c.address, "-y",
                                 env_extra=env, timeout=400)

        t = threading.Thread(target=go)
        t.start()
        wait_until(lambda: wproj.marks.files("start"), 240,
              "a trial to start")
        c.kill(c.workers[0])  # the worker (and its nanny) die mid-trial
        c.workers.append(c.add_worker("w-late"))  # a new worker joins afterwards
        t.join(400)
        assert not t.is_alive()
        r = r_holder["r"]
        assert "Traceback" not in r.stderr
        assert "died" in r.stderr
        batch = _batch(wproj)
        trials = _runs(wproj, batch.linked_run_ids())
        statuses = sorted(t.status for t in trials)
        assert "running" not in statuses and "pending" not in statuses
        assert "error" in statuses
    finally:
        c.close()


def test_scheduler_going_away(tmp_path, wproj):
    from guildls.executor.dask_launcher import DaskLauncher
    from guildls.executor.runner import Runner

    c = Cluster(str(tmp_path), n_workers=1)
    try:
        env = wproj.env()
        env.update(wproj.marks.env(want=99))
        plan = wproj.plan("w", ["i=[1,2,3]"])
        launcher = DaskLauncher.connect(c.address, wproj.runs_root)
        launcher.lost_after = 5.0
        started = threading.Event()
        runner = Runner(plan, wproj.root, wproj.path, env=env, trial_launcher=launcher,
                        on_event=lambda ev: ev.get("host") and started.set())
        holder = {}
        t = threading.Thread(target=lambda: holder.setdefault("res", runner.run()))
        t.start()
        assert started.wait(240)
        c.kill(c.sched)
        t.join(240)
        assert not t.is_alive(), "the batch hung after the scheduler went away"
        launcher.close()
        runs = _runs(wproj, [r.id for r in holder["res"].runs])
        assert all(r.status in ("error", "terminated", "completed") for r in runs)
        assert any(r.status == "error" for r in runs[1:])
        assert "lost the Dask scheduler" in runs[0].read_output() or \
            "died" in runs[0].read_output()
    finally:
        c.close()


def test_scheduler_unreachable(wproj):
    port = _free_port()
    r = _cli(wproj, "w", "i=[1,2]", "--dask", f"tcp://127.0.0.1:{port}", "-y", timeout=120)
    assert r.returncode == 1
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in r.stderr
    assert "Traceback" not in r.stderr
    assert wproj.run_ids() == []  # nothing recorded


def test_unwritable_guild_home_on_dask(cluster, wproj):
    os.makedirs(wproj.guild_home, exist_ok=True)
    with open(wproj.runs_root, "w") as f:  # `runs` is a file: no run can be written
        f.write("x")
    r = _cli(wproj, "w", "i=[1,2]", "--dask", cluster.address, "-y",
             env_extra=wproj.marks.env(want=2))
    assert r.returncode == 1
    assert f"cannot write runs in {wproj.runs_root}" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert not wproj.marks.files("start")  # no trial ran anywhere


def test_workers_that_cannot_see_guild_home(tmp_path, wproj):
    # a worker in its own mount namespace sees an empty folder at GUILD_HOME's path
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("cannot start a worker with its own mount namespace (unshare -m): "
                    f"{probe.stderr.decode().strip()}")
    home = wproj.guild_home
    prefix = ["unshare", "-m", "sh", "-c", f'mount -t tmpfs none "{home}" && exec "$0" "$@"']
    c = Cluster(str(tmp_path), n_workers=1, worker_prefix=prefix)
    try:
        r = _cli(wproj, "w", "i=[1,2]", "--dask", c.address, "-y",
                 env_extra=wproj.marks.env(want=2))
        assert r.returncode == 1
        assert "cannot use the runs directory" in r.stderr and "share" in r.stderr
        assert [i for i in wproj.run_ids() if not i.startswith(".")] == []
    finally:
        c.close()


def test_missing_extra_is_a_clear_message(wproj):
    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'distributed' or name.startswith('distributed.'):\n"
            "            raise ImportError('blocked')\n"
            "sys.meta_path.insert(0, Block())\n"
            "from guildls.executor.cli import cli_run\n"
            f"sys.exit(cli_run(['-C', {wproj.root!r}, 'w', 'i=[1,2]', '--dask', "
            "'tcp://127.0.0.1:1', '-y']))\n")
    r = subprocess.run([sys.executable, "-c", code], env=wproj.env(), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1
    assert "pip install 'guildls[dask]'" in r.stderr and "Traceback" not in r.stderr
