"""Run records: atomic attributes, link names, and Guild's own tools reading them."""

import os
import shutil
import subprocess

import pytest
import yaml

from guildls import runs as R

GUILD = os.environ.get("GUILD_EXE") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), ".venv-guild", "bin", "guild")


def test_runs_dir_location(tmp_path):
    assert R.runs_dir(str(tmp_path), {"GUILD_HOME": "/x/home"}) == "/x/home/runs"
    assert R.runs_dir(str(tmp_path), {}) == os.path.join(str(tmp_path), ".guild", "runs")


def test_atomic_attr_write_leaves_no_temp_files(tmp_path):
    run = R.create_run(str(tmp_path / "runs"))
    for i in range(20):
        run.write_attr("flags", {"i": i, "s": "y"})
    names = os.listdir(run.guild_path("attrs"))
    assert sorted(names) == ["flags", "id", "initialized"]
    assert run.get("flags") == {"i": 19, "s": "y"}
    with open(run.guild_path("attrs", "flags")) as f:
        assert yaml.safe_load(f) == {"i": 19, "s": "y"}


def test_step_link_names(tmp_path):
    root = str(tmp_path / "runs")
    parent = R.create_run(root)
    kids = [R.create_run(root) for _ in range(4)]
    names = [os.path.basename(parent.link_step(n, k))
             for n, k in zip(["op", "op", "net:train", "a b/c"], kids)]
    assert names == ["op", "op_2", "net-train", "a-b-c"]
    assert os.readlink(os.path.join(parent.path, "op_2")) == f"../{kids[1].id}"
    assert sorted(parent.linked_run_ids()) == sorted(k.id for k in kids)


def test_status_from_exit_status(tmp_path):
    root = str(tmp_path / "runs")
    for code, status in ((0, "completed"), (3, "error"), (-15, "terminated")):
        r = R.create_run(root)
        r.finalize(code)
        assert r.status == status
    r = R.create_run(root)
    r.write_lock(os.getpid())
    assert r.status == "running"


def test_output_index_has_one_entry_per_line(tmp_path):
    r = R.create_run(str(tmp_path / "runs"))
    r.open_output()
    r.write_output(b"a\nb", 0)
    r.write_output(b"c\n", 0)
    r.write_output(b"err\n", 1)
    r.close_output()
    with open(r.guild_path("output.index"), "rb") as f:
        idx = f.read()
    assert len(idx) == 3 * 9
    assert r.read_output() == "a\nbc\nerr\n"


@pytest.mark.skipif(not os.path.exists(GUILD), reason=f"Guild not installed at {GUILD} "
                    "(pip install guildai in a separate venv, or set GUILD_EXE)")
def test_guild_reads_our_runs(project):
    project.write("prepare.py", "rows = 5\nopen('data.csv', 'w').write('x')\nprint('prepared')\n")
    project.write("train.py", "lr = 0.1\nprint('loss: 0.5')\n")
    project.guildfile("""
prepare-data: {main: prepare, flags: {rows: 5}}
train:
  main: train
  flags: {lr: 0.1}
  requires:
    - operation: prepare-data
end-to-end:
  steps: [prepare-data, train lr=0.2]
""")
    res = project.run("end-to-end")
    assert res.exit_code == 0, res.output
    env = dict(os.environ, GUILD_HOME=project.guild_home)
    out = subprocess.run([GUILD, "runs", "-a"], cwd=project.root, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = [l for l in out.stdout.splitlines() if l.strip()]
    assert len(lines) == 3
    assert "train" in lines[0] and "completed" in lines[0] and "lr=0.2" in lines[0]
    assert "end-to-end" in lines[2] and "completed" in lines[2]
    parent = res.runs[0].id
    info = subprocess.run([GUILD, "runs", "info", parent[:8]], cwd=project.root, env=env,
                          capture_output=True, text=True, timeout=60)
    assert info.returncode == 0, info.stderr
    assert f"id: {parent}" in info.stdout
    assert "operation: end-to-end" in info.stdout
    assert "status: completed" in info.stdout
    assert "exit_status: 0" in info.stdout
    train = res.runs[2].id
    info = subprocess.run([GUILD, "runs", "info", train[:8], "-d"], cwd=project.root, env=env,
                          capture_output=True, text=True, timeout=60)
    assert info.returncode == 0, info.stderr
    assert "lr: 0.2" in info.stdout and f"operation:prepare-data: {res.runs[1].id}" in info.stdout
    assert "loss: 0.5" in info.stdout  # output scalar -> our tfevents file
    info = subprocess.run([GUILD, "runs", "info", parent[:8]], cwd=project.root, env=env,
                          capture_output=True, text=True, timeout=60)
    assert "train/.guild#loss: 0.5" in info.stdout  # rolled up through the step link
    cat = subprocess.run([GUILD, "cat", "--output", train[:8]], cwd=project.root, env=env,
                         capture_output=True, text=True, timeout=60)
    assert "loss: 0.5" in cat.stdout


def test_crc32c_and_scalar_patterns():
    from guildls.runs import scalars as S

    assert S.crc32c(b"123456789") == 0xE3069283
    pats = S.patterns_for(None)
    assert S.match_line("loss: 0.25", pats) == {"loss": 0.25}
    assert S.match_line("acc: 0.5 (step 3)", pats) == {"acc": 0.5, "step": 3.0}
    assert S.match_line("not a scalar", pats) == {}
    assert S.patterns_for(False) == []
    custom = S.patterns_for({"acc": r"accuracy=(\value)"})
    assert S.match_line("val accuracy=0.75", custom) == {"acc": 0.75}
