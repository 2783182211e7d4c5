"""Batches (grid, random, batch files) planned and run with Guild 0.9.0's semantics.

Guild's behaviour stated here was observed with Guild 0.9.0 (`guild run ... --print-trials`,
`--keep-batch` records); see server/guildls/executor/README.md "Batches". Where Guild is
installed (GUILD_EXE), the grid/batch-file trial sets are also compared with it live.
"""

import json
import os
import subprocess
import sys
import threading

import pytest

from guildls import runs as R
from guildls.executor.plan import PlanError
from trialmarks import RunsStarted  # tests/, on sys.path (tests/conftest.py)

GUILD = os.environ.get("GUILD_EXE") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", ".venv-guild", "bin", "guild")
HAVE_GUILD = bool(GUILD) and os.path.exists(GUILD)

TRAIN = """
train:
  main: train
  flags:
    lr: 0.1
    n: 1
    opt: sgd
    fail: 0
listdef:
  main: train
  flags:
    lr: [0.1, 0.2]
    n: 1
    opt: sgd
    fail: 0
sweep:
  steps:
    - train lr=[0.1,0.2] n=[1,2]
    - run: train
      flags:
        lr: [0.3, 0.4]
        opt: [a, b]
    - train @trials.csv
    - train lr=loguniform[1e-5:1e-1] --max-trials 3 --random-seed 5
"""

SCRIPT = """
import argparse, sys
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1)
p.add_argument("--n", type=int, default=1)
p.add_argument("--opt", default="sgd")
p.add_argument("--fail", type=int, default=0)
a = p.parse_args()
print("lr=%s n=%s opt=%s" % (a.lr, a.n, a.opt))
print("loss: %s" % (a.lr * a.n))
sys.exit(a.fail)
"""


@pytest.fixture
def proj(project):
    project.write("train.py", SCRIPT)
    project.write("trials.csv", "lr,n\n0.01,1\n0.02,2\n")
    project.write("trials.json", '[{"lr": 0.03, "n": 3}, {"lr": 0.04}]\n')
    project.write("trials.yaml", "- lr: 0.05\n  n: 5\n- opt: adam\n")
    project.guildfile(TRAIN)
    return project


def trial_flags(plan, keys=("fail", "lr", "n", "opt")):
    return [tuple(t.flags[k] for k in keys) for t in plan.trials]


# -- planning: what Guild 0.9.0 prints with --print-trials -----------------------------------

def test_grid_is_the_product_over_sorted_flag_names(proj):
    plan = proj.plan("train", ["n=[1,2,3]", "lr=[0.1,0.2]"])
    assert plan.batch.optimizer == "+"
    assert trial_flags(plan) == [(0, 0.1, 1, "sgd"), (0, 0.1, 2, "sgd"), (0, 0.1, 3, "sgd"),
                                 (0, 0.2, 1, "sgd"), (0, 0.2, 2, "sgd"), (0, 0.2, 3, "sgd")]


def test_grid_max_trials_samples_like_guild(proj):
    # guild run train lr=[0.1,0.2] n=[1,2,3] --max-trials 4 --random-seed 7
    plan = proj.plan("train", ["lr=[0.1,0.2]", "n=[1,2,3]"],
                     batch_options={"max_trials": 4, "random_seed": 7})
    assert [(t.flags["lr"], t.flags["n"]) for t in plan.trials] == \
        [(0.1, 2), (0.1, 3), (0.2, 1), (0.2, 3)]
    # more trials than combinations: all of them
    plan = proj.plan("train", ["lr=[0.1,0.2]", "n=range[1:2]"], batch_options={"max_trials": 10})
    assert len(plan.trials) == 4


def test_sequence_functions_expand_to_grids(proj):
    assert [t.flags["n"] for t in proj.plan("train", ["n=range[1:5]"]).trials] == [1, 2, 3, 4, 5]
    plan = proj.plan("train", ["n=range[1:10:3]", "lr=linspace[0:1:3]"])
    assert [(t.flags["lr"], t.flags["n"]) for t in plan.trials][:5] == \
        [(0.0, 1), (0.0, 4), (0.0, 7), (0.0, 10), (0.5, 1)]
    assert len(plan.trials) == 12
    assert [t.flags["lr"] for t in proj.plan("train", ["lr=logspace[-3:-1:3]"]).trials] == \
        [0.001, 0.01, 0.1]
    assert [t.flags["lr"] for t in proj.plan("train", ["lr=linspace[0:1]"]).trials] == \
        [0.0, 0.25, 0.5, 0.75, 1.0]


def test_list_default_and_one_item_list_are_batches(proj):
    assert [t.flags["lr"] for t in proj.plan("listdef").trials] == [0.1, 0.2]
    plan = proj.plan("train", ["lr=[0.1]"])
    assert plan.batch is not None and len(plan.trials) == 1


def test_batch_files(proj):
    plan = proj.plan("train", ["@trials.csv"])
    assert trial_flags(plan) == [(0, 0.01, 1, "sgd"), (0, 0.02, 2, "sgd")]
    # command-line assignments win over the file's values
    plan = proj.plan("train", ["@trials.json", "n=9"])
    assert trial_flags(plan) == [(0, 0.03, 9, "sgd"), (0, 0.04, 9, "sgd")]
    # several files concatenate; missing values are the op's defaults
    plan = proj.plan("train", ["@trials.yaml", "@trials.csv"])
    assert trial_flags(plan) == [(0, 0.05, 5, "sgd"), (0, 0.1, 1, "adam"),
                                 (0, 0.01, 1, "sgd"), (0, 0.02, 2, "sgd")]
    with pytest.raises(PlanError) as e:
        proj.plan("train", ["@missing.csv"])
    assert e.value.message.startswith("batch file ") and e.value.message.endswith(
        "missing.csv does not exist")


def test_one_trial_batch_file_is_a_plain_run(proj):
    proj.write("one.csv", "lr\n0.7\n")
    plan = proj.plan("train", ["@one.csv"])
    assert plan.batch is None and plan.flags["lr"] == 0.7


def test_random_trials(proj):
    opts = {"max_trials": 5, "random_seed": 3}
    plan = proj.plan("train", ["lr=loguniform[1e-5:1e-1]", "n=[1,2]"], batch_options=opts)
    assert plan.batch.optimizer == "random" and len(plan.trials) == 5
    for t in plan.trials:
        assert 1e-5 <= t.flags["lr"] <= 1e-1 and t.flags["n"] in (1, 2)
    again = proj.plan("train", ["lr=loguniform[1e-5:1e-1]", "n=[1,2]"], batch_options=opts)
    assert trial_flags(again) == trial_flags(plan)  # the seed fixes the trials
    # uniform with int bounds draws ints; a third argument is the first trial's value
    plan = proj.plan("train", ["n=uniform[1:10:7]"], batch_options={"max_trials": 4})
    assert plan.trials[0].flags["n"] == 7
    assert all(isinstance(t.flags["n"], int) and 1 <= t.flags["n"] <= 10 for t in plan.trials)
    # default max trials of the random optimizer: 20; anonymous [a:b] is uniform
    assert len(proj.plan("train", ["lr=[0.1:0.2]"]).trials) == 20
    plan = proj.plan("train", ["lr=[0.1,0.2]"], batch_options={"optimizer": "random",
                                                               "max_trials": 3})
    assert plan.batch.optimizer == "random" and len(plan.trials) == 3
    assert "3 random trials of lr in loguniform[1e-5:1e-1]" in proj.plan(
        "train", ["lr=loguniform[1e-5:1e-1]"], batch_options={"max_trials": 3}).to_text()


def test_optimizer_names(proj):
    for name, canon in (("+", "+"), ("random", "random"), ("skopt:random", "random")):
        plan = proj.plan("train", ["lr=[0.1,0.2]"],
                         batch_options={"optimizer": name, "max_trials": 2})
        assert plan.batch.optimizer == canon
    # Guild 0.9.0: `--optimizer grid` -> operation 'grid' is not defined for this project
    with pytest.raises(PlanError) as e:
        proj.plan("train", ["lr=[0.1,0.2]"], batch_options={"optimizer": "grid"})
    assert e.value.message.startswith("operation 'grid' is not defined for this project")
    # model-based optimizers (and -O, whose default is gp) are refused, clearly
    for opts in ({"optimizer": "gp"}, {"optimizer": "bayesian"}, {"optimizer": "forest"},
                 {"optimizer": "skopt:gbrt"}, {"optimize": True}):
        with pytest.raises(PlanError) as e:
            proj.plan("train", ["lr=uniform[0:1]"], batch_options=opts)
        assert "not supported by guildls" in e.value.message and "--optimizer random" in \
            e.value.message


def test_bad_batch_values_use_guilds_wording(proj):
    cases = {
        "lr=normal[0:1]": "unknown function 'normal' used for flag lr",
        "lr=uniform[0]": "uniform requires 2 or 3 args, got (0,) for flag lr",
        "lr=uniform[1:0]": "invalid function args in 'lr=uniform[1:0]': the lower bound 1 "
                           "has to be less than the upper bound 0",
        "n=range[a:b]": "invalid function args in 'n=range[a:b]': invalid arg 'a': "
                        "expected a number",
    }
    for arg, msg in cases.items():
        with pytest.raises(PlanError) as e:
            proj.plan("train", [arg])
        assert e.value.message == msg
    with pytest.raises(PlanError) as e:
        proj.plan("train", ["lr=[]"])
    assert "empty list" in e.value.message
    with pytest.raises(PlanError) as e:  # no search dimension for the random optimizer
        proj.plan("train", ["lr=0.1"], batch_options={"optimizer": "random"})
    assert "do not contain any search dimensions" in e.value.message


def test_not_a_batch_warning(proj):
    plan = proj.plan("train", ["lr=0.2"], batch_options={"max_trials": 3})
    assert plan.batch is None and "not a batch run - ignoring --max-trials" in plan.warnings


def test_batches_in_steps(proj):
    plan = proj.plan("sweep")
    grid, flags_map, from_file, rnd = plan.steps
    assert [(t.flags["lr"], t.flags["n"]) for t in grid.trials] == \
        [(0.1, 1), (0.1, 2), (0.2, 1), (0.2, 2)]
    assert [(t.flags["lr"], t.flags["opt"]) for t in flags_map.trials] == \
        [(0.3, "a"), (0.3, "b"), (0.4, "a"), (0.4, "b")]
    assert [t.flags["lr"] for t in from_file.trials] == [0.01, 0.02]
    assert rnd.batch.optimizer == "random" and len(rnd.trials) == 3
    assert rnd.batch.random_seed == 5
    assert "3 random trials of lr in loguniform[1e-5:1e-1]" in plan.to_text()


@pytest.mark.skipif(not HAVE_GUILD, reason="Guild not installed (set GUILD_EXE): the live "
                    "comparison is skipped; the observed trial sets are asserted above")
def test_grid_trials_match_guild_live(proj):
    for args in (["lr=[0.1,0.2]", "n=[1,2,3]", "--max-trials", "4", "--random-seed", "11"],
                 ["@trials.yaml", "@trials.csv", "n=range[1:2]"],
                 ["lr=logspace[-3:-1:3]", "opt=[a,b]"]):
        csv_path = os.path.join(proj.root, "saved.json")
        env = proj.env()
        r = subprocess.run([GUILD, "run", "train", *args, "--save-trials", csv_path, "-y"],
                           cwd=proj.root, env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        with open(csv_path) as f:
            guild_trials = json.load(f)
        flags = [a for a in args if "=" in a or a.startswith("@")]
        opts = {}
        if "--max-trials" in args:
            opts = {"max_trials": 4, "random_seed": 11}
        ours = proj.plan("train", flags, batch_options=opts)
        assert [t.flags for t in ours.trials] == guild_trials, args


# -- running: records in Guild's layout ----------------------------------------------------

def test_grid_batch_records(proj):
    res = proj.run("train", ["lr=[0.1,0.2]", "fail=[0,3]"])
    assert res.exit_code == 0, res.output  # failing trials do not fail the batch (Guild)
    batch = R.Run(res.root_id, os.path.join(proj.runs_root, res.root_id))
    assert batch.opref == {"pkg_type": "builtin", "pkg_name": "guildai", "version": "0.9.0",
                           "model": "", "op": "+"}
    assert batch.status == "completed" and batch.get("flags") == {}
    assert isinstance(batch.get("random_seed"), int)
    proto = R.Run(batch.id, batch.guild_path("proto"))
    assert proto.opref["op"] == "train" and proto.get("flags")["lr"] == [0.1, 0.2]
    linked = sorted(batch.linked_run_ids())
    trials = [R.Run(i, os.path.join(proj.runs_root, i)) for i in linked]
    assert len(trials) == 4
    by_flags = {(t.get("flags")["fail"], t.get("flags")["lr"]): t for t in trials}
    assert sorted(by_flags) == [(0, 0.1), (0, 0.2), (3, 0.1), (3, 0.2)]
    assert [by_flags[k].status for k in sorted(by_flags)] == \
        ["completed", "completed", "error", "error"]
    assert by_flags[(3, 0.2)].get("label") == "fail=3 lr=0.2 n=1 opt=sgd"
    out = batch.read_output()
    for t in trials:
        assert f"INFO: [guild] Running trial {t.id}: train (fail=" in out
    assert out.count("exited with an error (3) - see log for details") == 2
    assert out.count("loss: ") == 4
    for t in trials:
        assert not os.path.exists(t.guild_path("PENDING"))
        assert not os.path.exists(t.guild_path("LOCK"))


def test_fail_on_trial_error_stops_the_batch(proj):
    res = proj.run("train", ["fail=[3,0]"], plan_kw={"batch_options": {
        "fail_on_trial_error": True}})
    assert res.exit_code == 3
    statuses = [r.status for r in res.runs]
    assert statuses == ["error", "error", "terminated"]  # batch, failed trial, never started
    assert "Stopping batch because a trial failed" in res.output


def test_batch_step_in_workflow_links_the_batch(proj):
    proj.guildfile(TRAIN + """
wf:
  steps:
    - train n=[1,2]
    - train fail=[0,4]
    - train lr=0.5
""")
    res = proj.run("wf")
    assert res.exit_code == 0, res.output
    wf = R.Run(res.root_id, os.path.join(proj.runs_root, res.root_id))
    links = sorted(os.listdir(wf.path))
    assert links == [".guild", "train", "train_2", "train_3"]
    b1 = R.Run(None, os.path.realpath(os.path.join(wf.path, "train")))
    assert b1.opref["op"] == "+" and len(b1.linked_run_ids()) == 2
    assert "[guild] running train: train n=[1, 2]" in res.output


def test_random_batch_runs(proj):
    res = proj.run("train", ["lr=loguniform[1e-4:1e-2]"],
                   plan_kw={"batch_options": {"max_trials": 3, "random_seed": 1}})
    assert res.exit_code == 0, res.output
    batch = R.Run(res.root_id, os.path.join(proj.runs_root, res.root_id))
    assert batch.opref["op"] == "random" and batch.opref["model"] == "skopt"
    assert batch.get("max_trials") == 3 and batch.get("random_seed") == 1
    assert [r.status for r in res.runs] == ["completed"] * 4


def test_random_trials_keep_plain_assignments(proj):
    # Guild 0.9.0: `guild run train lr=loguniform[1e-4:1e-2] n=[1,2] opt=adam --max-trials 4`
    # runs every trial with opt=adam (a plain value beside the search dimensions is applied
    # to all trials, as in a grid)
    plan = proj.plan("train", ["lr=loguniform[1e-4:1e-2]", "n=[1,2]", "opt=adam"],
                     batch_options={"max_trials": 4, "random_seed": 5})
    assert len(plan.trials) == 4
    assert [t.flags["opt"] for t in plan.trials] == ["adam"] * 4
    assert all(1e-4 <= t.flags["lr"] <= 1e-2 and t.flags["n"] in (1, 2) for t in plan.trials)


def _guild_random_ok(root, env):
    """Why Guild's random optimizer cannot run in the oracle venv, or None when it can."""
    r = subprocess.run([GUILD, "run", "train", "lr=uniform[0.1:0.2]", "--max-trials", "1",
                        "--print-trials"], cwd=root, env=env, capture_output=True, text=True,
                       timeout=300)
    return None if r.returncode == 0 else (r.stderr.strip().splitlines() or ["?"])[-1]


@pytest.mark.skipif(not HAVE_GUILD, reason="Guild not installed (set GUILD_EXE)")
def test_random_batch_records_match_guild_live(proj, tmp_path):
    args = ["lr=loguniform[1e-4:1e-2]", "n=[1,2]", "opt=adam"]
    guild_home = tmp_path / "oracle-home"
    guild_home.mkdir()
    env = dict(proj.env(), GUILD_HOME=str(guild_home))
    why = _guild_random_ok(proj.root, env)
    if why:
        pytest.skip(f"Guild's random optimizer cannot run in the oracle venv ({why}); "
                    "`make oracle` pins numpy<1.25 for it")
    r = subprocess.run([GUILD, "run", "train", *args, "--max-trials", "4", "--random-seed", "5",
                        "--keep-batch", "-y"], cwd=proj.root, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr

    def records(runs_root):
        runs = [R.Run(i, os.path.join(runs_root, i)) for i in os.listdir(runs_root)]
        [batch] = [x for x in runs if x.opref["op"] != "train"]
        trials = [x for x in runs if x.opref["op"] == "train"]
        return batch, trials

    g_batch, g_trials = records(str(guild_home / "runs"))
    res = proj.run("train", args, plan_kw={"batch_options": {"max_trials": 4, "random_seed": 5}})
    assert res.exit_code == 0, res.output
    o_batch, o_trials = records(proj.runs_root)
    for batch in (g_batch, o_batch):
        assert {k: batch.opref[k] for k in ("pkg_type", "pkg_name", "model", "op")} == \
            {"pkg_type": "builtin", "pkg_name": "guildai", "model": "skopt", "op": "random"}
        assert batch.get("flags") == {} and batch.get("max_trials") == 4
        assert batch.get("random_seed") == 5 and batch.status == "completed"
        assert sorted(batch.linked_run_ids()) == sorted(t.id for t in
                                                        (g_trials if batch is g_batch else o_trials))
    # the same trials in kind (the draws differ: Guild uses numpy, guildls Python's random)
    for trials in (g_trials, o_trials):
        assert len(trials) == 4
        for t in trials:
            f = t.get("flags")
            assert sorted(f) == ["fail", "lr", "n", "opt"], f
            assert f["opt"] == "adam" and f["n"] in (1, 2) and f["fail"] == 0
            assert isinstance(f["lr"], float) and 1e-4 <= f["lr"] <= 1e-2
            assert t.status == "completed"
            label = t.get("label").split()
            assert [w.split("=")[0] for w in label] == ["fail", "lr", "n", "opt"], label
            assert label[0] == "fail=0" and label[2] == f"n={f['n']}" and label[3] == "opt=adam"
    # and Guild reads guildls's records as its own
    out = subprocess.run([GUILD, "runs"], env=proj.env(), capture_output=True, text=True,
                         timeout=300).stdout
    assert "train+skopt:random" in out and out.count("completed") == 5, out


@pytest.mark.skipif(not HAVE_GUILD, reason="Guild not installed (set GUILD_EXE)")
def test_guild_reads_batch_records(proj):
    res = proj.run("train", ["lr=[0.1,0.2]", "fail=[0,3]"])
    assert res.exit_code == 0
    r = subprocess.run([GUILD, "runs"], env=proj.env(), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert "train+" in r.stdout
    assert r.stdout.count("error") == 2 and r.stdout.count("completed") == 3
    r = subprocess.run([GUILD, "compare", "--table", "--cols", "=lr,=fail,loss"],
                       env=proj.env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("0.2") >= 2


# -- parallel trials -------------------------------------------------------------------------

def test_workers_run_trials_at_once(trial_marks):
    proj = trial_marks.project
    env = proj.env()
    env.update(trial_marks.env(want=2))
    from guildls.executor.runner import Runner
    plan = proj.plan("w", ["i=[1,2,3,4]"])
    out = []
    runner = Runner(plan, proj.root, proj.path, env=env, workers=2,
                    on_output=lambda rid, s, t: out.append(t))
    res = runner.run()
    assert res.exit_code == 0, "".join(out)
    assert len(trial_marks.intervals()) == 4
    # the first two trials ran at the same time: each started before the other ended
    assert trial_marks.first_two_overlap()
    batch = R.Run(res.root_id, os.path.join(proj.runs_root, res.root_id))
    lines = [ln for ln in batch.read_output().splitlines() if ln.startswith("done")]
    assert lines == []  # every trial line in the batch output is prefixed with its trial
    assert sum(1 for ln in batch.read_output().splitlines()
               if ln.startswith("[trial ") and "] done " in ln) == 4


def test_stop_mid_batch_terminates_every_trial(trial_marks):
    proj = trial_marks.project
    env = proj.env()
    env.update(trial_marks.env(want=99))  # never satisfied: trials run until stopped
    from guildls.executor.runner import Runner
    plan = proj.plan("w", ["i=[1,2,3,4,5]"])
    started = RunsStarted(2, "pid")
    runner = Runner(plan, proj.root, proj.path, env=env, workers=2, on_event=started,
                    kill_grace=1.0)
    holder = {}
    t = threading.Thread(target=lambda: holder.setdefault("res", runner.run()))
    t.start()
    assert started.ready.wait(120), "two trials never started"
    runner.stop()
    t.join(120)
    assert not t.is_alive()
    res = holder["res"]
    assert res.exit_code < 0
    runs = [R.Run(r.id, os.path.join(proj.runs_root, r.id)) for r in res.runs]
    assert len(runs) == 6
    assert [r.status for r in runs] == ["terminated"] * 6
    for r in runs:
        assert not os.path.exists(r.guild_path("PENDING"))


# -- command line ------------------------------------------------------------------------------

def test_cli_workers_prefix_and_batch_options(proj):
    env = proj.env()
    r = subprocess.run([sys.executable, "-m", "guildls", "run", "-C", proj.root, "train",
                        "lr=[0.1,0.2,0.3]", "--workers", "2", "-y"],
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    for i in (1, 2, 3):
        assert f"[trial {i}/3] lr=" in r.stdout
    assert "[trial 1/3] INFO: [guild] Running trial " in r.stderr
    r = subprocess.run([sys.executable, "-m", "guildls", "run", "-C", proj.root, "train",
                        "lr=uniform[0:1]", "--max-trials", "2", "--random-seed", "4", "--plan"],
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "2 random trials of lr in uniform[0:1]" in r.stdout
    r = subprocess.run([sys.executable, "-m", "guildls", "run", "-C", proj.root, "train",
                        "lr=[0.1]", "--optimizer", "gp", "-y"],
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "gp optimizer" in r.stderr and "Traceback" not in r.stderr


# -- bad input: an unwritable GUILD_HOME --------------------------------------------------------

def _chattr_works(path):
    import shutil
    if shutil.which("chattr") is None:
        return False
    ok = subprocess.run(["chattr", "+i", path], capture_output=True).returncode == 0
    subprocess.run(["chattr", "-i", path], capture_output=True)
    return ok


def test_unwritable_guild_home_is_a_clear_error(proj):
    os.makedirs(proj.guild_home, exist_ok=True)
    with open(proj.runs_root, "w") as f:  # `runs` is a file: no run can be written
        f.write("x")
    r = subprocess.run([sys.executable, "-m", "guildls", "run", "-C", proj.root, "train",
                        "lr=[0.1,0.2]", "-y"], env=proj.env(), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 1
    assert f"cannot write runs in {proj.runs_root}" in r.stderr and "Traceback" not in r.stderr
    os.remove(proj.runs_root)
    os.makedirs(proj.runs_root)
    if not _chattr_works(proj.runs_root):
        pytest.skip("chattr +i is not available here: the read-only runs folder case is "
                    "not checked (root ignores permission bits)")
    subprocess.run(["chattr", "+i", proj.runs_root], check=True)
    try:
        r = subprocess.run([sys.executable, "-m", "guildls", "run", "-C", proj.root, "train",
                            "lr=[0.1,0.2]", "-y"], env=proj.env(), capture_output=True,
                           text=True, timeout=300)
    finally:
        subprocess.run(["chattr", "-i", proj.runs_root])
    assert r.returncode == 1
    assert "cannot write runs in" in r.stderr and "Traceback" not in r.stderr
    assert os.listdir(proj.runs_root) == []


LOCKER = """
import os, subprocess
runs = os.path.dirname(os.environ["RUN_DIR"])
for name in os.listdir(runs):  # make the pending trials' records read-only
    if os.path.exists(os.path.join(runs, name, ".guild", "PENDING")):
        subprocess.run(["chattr", "+i", os.path.join(runs, name, ".guild", "attrs")])
print("locked")
"""


def test_records_that_cannot_be_written_mid_batch(proj):
    os.makedirs(proj.runs_root, exist_ok=True)
    if not _chattr_works(proj.runs_root):
        pytest.skip("chattr +i is not available here: records cannot be made read-only as root")
    proj.write("locker.py", LOCKER)
    proj.guildfile("lock:\n  main: locker\n  flags: {i: 0}\n")
    try:
        res = proj.run("lock", ["i=[1,2]"])
    finally:
        for name in os.listdir(proj.runs_root):
            subprocess.run(["chattr", "-i", os.path.join(proj.runs_root, name, ".guild",
                                                         "attrs")], capture_output=True)
    # the batch went on and ended; the second trial failed with a clear message
    assert [r.status for r in res.runs] == ["completed", "completed", "error"]
    assert "Permission denied" in res.output or "Operation not permitted" in res.output
    runs = [R.Run(r.id, os.path.join(proj.runs_root, r.id)) for r in res.runs]
    assert runs[2].status == "error"  # no exit_status could be written: never `running`
    for r in runs:
        for name in os.listdir(r.guild_path("attrs")):
            assert not name.startswith(".")  # no temp file left behind: no half-written attr
