"""The run reader on strange runs directories, batches, live/dead LOCKs, event files, deletion."""

import json
import logging
import os
import struct
import subprocess
import sys

import pytest

from guildls import runs as R
from guildls.runs import query, tfevents
from guildls.runs.scalars import encode_event, record

from runs_util import guild, guildls, have_guild


def _run(root, op="train", flags=None, exit_status=0, started=None, label=None):
    r = R.create_run(str(root))
    r.write_opref(R.encode_opref("/p/guild.yml", "", op, "0"))
    r.write_attr("flags", flags or {})
    if label:
        r.write_attr("label", label)
    r.write_attr("started", started or R.timestamp())
    if exit_status is not None:
        r.finalize(exit_status)
    return r


def test_strange_entries_are_skipped_with_a_logged_reason(tmp_path, caplog):
    root = tmp_path / "runs"
    good = _run(root, flags={"lr": 0.1})
    (root / "notes.txt").write_text("hello")
    os.makedirs(root / ("a" * 32))  # half-created run: no opref yet
    os.makedirs(root / "not-a-run")
    broken = _run(root, op="broken")
    with open(broken.guild_path("attrs", "flags"), "w") as f:
        f.write("{unclosed: [")
    with open(broken.guild_path("attrs", "started"), "w") as f:
        f.write("not a time")
    bad_opref = _run(root, op="x")
    with open(bad_opref.guild_path("opref"), "w") as f:
        f.write("garbage 'unclosed")
    (root / good.id / ".guild" / "events.out.tfevents.1.h.1.0").write_bytes(b"\x00\x01junk not a record")
    with caplog.at_level(logging.INFO, logger="guildls.runs"):
        runs = query.list_runs([str(root)])
    by_id = {r["id"]: r for r in runs}
    assert set(by_id) == {good.id, broken.id, bad_opref.id}
    assert by_id[good.id]["flags"] == {"lr": 0.1} and by_id[good.id]["scalars"] == {}
    b = by_id[broken.id]
    assert b["flags"] == {} and b["started"] is None
    assert any(p.startswith("flags: not valid YAML") for p in b["problems"])
    assert by_id[bad_opref.id]["operation"] == "" and by_id[bad_opref.id]["problems"]
    logged = caplog.text
    assert "not-a-run" in logged and "notes.txt" in logged and "no .guild/opref" in logged


def test_status_running_only_while_the_lock_pid_lives(tmp_path):
    root = tmp_path / "runs"
    r = _run(root, exit_status=None)
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        r.write_lock(proc.pid)
        [rec] = query.list_runs([str(root)])
        assert rec["status"] == "running" and rec["duration"] is not None
    finally:
        proc.kill()
        proc.wait()
    [rec] = query.list_runs([str(root)])
    assert rec["status"] == "error"  # process gone, no exit status: as Guild shows it
    for marker, status in (("PENDING", "pending"), ("STAGED", "staged")):
        p = r.guild_path(marker)
        open(p, "w").close()
        assert query.list_runs([str(root)])[0]["status"] == status
        os.remove(p)


def test_batch_and_trials(tmp_path):
    root = tmp_path / "runs"
    batch = _run(root, op="train+")
    os.makedirs(batch.guild_path("proto", ".guild"))
    trials = [_run(root, flags={"lr": lr}) for lr in (0.1, 0.2)]
    for t in trials:
        os.symlink(f"../{t.id}", os.path.join(batch.path, t.id))
    runs = {r["id"]: r for r in query.list_runs([str(root)])}
    assert runs[batch.id]["kind"] == "batch"
    assert runs[batch.id]["trials"] == [t.id for t in trials]
    for t in trials:
        assert runs[t.id]["kind"] == "trial" and runs[t.id]["parent"] == batch.id


def _event_file(path, events):
    with open(path, "wb") as f:
        f.write(record(encode_event(1.0, file_version="brain.Event:2")))
        for step, vals in events:
            f.write(record(encode_event(2.0, step, scalars=vals)))


def test_scalar_series_and_half_written_event_files(tmp_path):
    root = tmp_path / "runs"
    r = _run(root)
    p = r.guild_path("events.out.tfevents.1.host.1.0")
    _event_file(p, [(0, {"loss": 1.0}), (1, {"loss": 0.5, "acc": 0.7}), (2, {"loss": 0.25})])
    with open(p, "ab") as f:  # a writer killed in the middle of a record
        f.write(record(encode_event(3.0, 3, scalars={"loss": 0.1}))[:-7])
    series = query.scalar_series(query.list_runs([str(root)]))
    assert series[r.id] == {"loss": [[0, 1.0], [1, 0.5], [2, 0.25]], "acc": [[1, pytest.approx(0.7)]]}
    [rec] = query.list_runs([str(root)])
    assert rec["scalars"]["loss"] == {"last": 0.25, "step": 2}
    only = query.scalar_series(query.list_runs([str(root)]), ["acc"])
    assert list(only[r.id]) == ["acc"]


def test_tensor_scalars_as_tf2_writes_them(tmp_path):
    """tf.summary.scalar writes a float tensor (DT_FLOAT=1) with tensor_content."""
    cls = tfevents._event_class()
    ev = cls(wall_time=1.0, step=7)
    v = ev.summary.value.add(tag="val_loss")
    v.tensor.dtype = 1
    v.tensor.tensor_content = struct.pack("<f", 0.125)
    run = tmp_path / "run"
    (run / ".guild").mkdir(parents=True)
    (run / "logs").mkdir()
    (run / "logs" / "events.out.tfevents.9.h.1.v2").write_bytes(record(ev.SerializeToString()))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "events.out.tfevents.9.h.1.v2").write_bytes(record(ev.SerializeToString()).replace(b"val_loss", b"xxx_loss"))
    os.symlink(str(elsewhere), str(run / "tb"))  # links to non-runs are not followed (as Guild)
    assert tfevents.run_series(str(run)) == {"val_loss": [(7, 0.125)]}


def test_reading_is_cached_until_a_run_changes(tmp_path):
    root = tmp_path / "runs"
    r = _run(root, label="a")
    [first] = query.list_runs([str(root)])
    [again] = query.list_runs([str(root)])
    assert first == again
    updated = query.label_run(first, "b")
    assert updated["label"] == "b"
    assert query.list_runs([str(root)])[0]["label"] == "b"
    assert R.Run(r.id, r.path).get("label") == "b"


def test_select_by_prefix_and_index(tmp_path):
    root = tmp_path / "runs"
    a = _run(root, started=1_000_000)
    b = _run(root, started=2_000_000)
    runs = query.list_runs([str(root)])
    assert [r["id"] for r in query.select(runs, ["1"])] == [b.id]
    assert [r["id"] for r in query.select(runs, [a.id[:8]])] == [a.id]
    with pytest.raises(query.RunSelectError, match="no run matches 'zzzz'"):
        query.select(runs, ["zzzz"])
    with pytest.raises(query.RunSelectError, match="there is no run 3"):
        query.select(runs, ["3"])


def test_rm_asks_unless_yes(tmp_path):
    home = tmp_path / "home"
    r = _run(home / "runs")
    p = guildls(["runs", "rm", r.id[:8]], tmp_path, home, check=False, input="")
    assert p.returncode == 1 and "without confirmation" in p.stderr
    assert os.path.isdir(r.path)
    p = guildls(["runs", "rm", "nope"], tmp_path, home, check=False)
    assert p.returncode == 1 and "no run matches 'nope'" in p.stderr


@pytest.mark.skipif(not have_guild(), reason="real Guild is not installed (make oracle)")
def test_rm_moves_to_guilds_trash_and_guild_restores_it(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    (project / "guild.yml").write_text("hello:\n  main: hello\n")
    (project / "hello.py").write_text("print('hi')\n")
    home = tmp_path / "home"
    home.mkdir()
    guild(["run", "hello", "-y"], project, home)
    guild(["run", "hello", "-y"], project, home)
    [newest, oldest] = json.loads(guildls(["runs", "--format", "json"], project, home).stdout)
    p = guildls(["runs", "rm", "-y", newest["short_id"]], project, home)
    assert "Deleted 1 run(s)" in p.stderr
    assert os.path.isdir(home / "trash" / "runs" / newest["id"])
    # Guild sees it as deleted and restores it
    assert newest["short_id"] in guild(["runs", "list", "--deleted"], project, home).stdout
    assert newest["short_id"] not in guild(["runs"], project, home).stdout
    guild(["runs", "restore", newest["short_id"], "-y"], project, home)
    ids = [r["id"] for r in json.loads(guildls(["runs", "--format", "json"], project, home).stdout)]
    assert ids == [newest["id"], oldest["id"]]


def test_embedded_schema_is_the_declared_one():
    assert tfevents._file_descriptor_proto().SerializeToString() == tfevents._SERIALIZED


def _fresh_process_state():
    from guildls.runs import reader
    reader._cache.clear()
    reader._loaded.clear()
    reader._dirty.clear()


def test_cache_file_between_processes(tmp_path):
    from guildls.runs import reader
    root = tmp_path / "home" / "runs"
    r = _run(root, label="a", flags={"lr": 0.1})
    _fresh_process_state()
    first = query.list_runs([str(root)])
    path = reader.cache_path(str(root))
    assert os.path.isfile(path)
    _fresh_process_state()
    assert query.list_runs([str(root)]) == first  # read back from the file
    # a run changed since is read again, not taken from the file
    _fresh_process_state()
    R.Run(r.id, r.path).write_attr("label", "b")
    assert query.list_runs([str(root)])[0]["label"] == "b"
    # a damaged or foreign cache file is ignored
    for junk in ("{not json", json.dumps({"version": 1, "runs": {r.id: {"stamp": "x"}}}), "[]"):
        with open(path, "w") as f:
            f.write(junk)
        _fresh_process_state()
        assert query.list_runs([str(root)])[0]["label"] == "b"


def test_opref_words_are_split_as_shlex_does():
    import shlex
    for text in [R.encode_opref("/p/my guild.yml", "", "train", "0"),
                 R.encode_opref("/p/it's/guild.yml", "m", "op", "abc"),
                 "guildfile:/p/guild.yml abc '' train", "guildfile:'/a b'/c.yml 1 '' 'o p'",
                 'guildfile:"/q p"/g.yml 1 m op', "a\\ b c d e", "x y 'z"]:
        try:
            want = shlex.split(text)
        except ValueError:
            want = None
        got = R.decode_opref(text)
        if want is None or len(want) != 4:
            assert got is None, text
        else:
            assert [got["pkg_type"] + (":" + got["pkg_name"] if ":" in want[0] else ""),
                    got["version"], got["model"], got["op"]] == want, text
