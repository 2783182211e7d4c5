"""Hostile inputs: each class of the hardening issue answers with a clear problem, not
a hang, a traceback or an exponential value (timing is measured in bench/hostile.py,
not here: these tests count work or check the answer)."""

import difflib
import subprocess
import sys

import pytest

from guildls.analysis import suggest as sg
from guildls.analysis.diagnostics import diagnose
from guildls.model import load
from guildls.model import nodes

from . import shapes


def _cli(*args, cwd=None, input=None):
    return subprocess.run([sys.executable, "-m", "guildls", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120, input=input)


# --- alias bombs ------------------------------------------------------------------------

def test_alias_bomb_refused_at_the_anchor():
    gf = load(shapes.alias_bomb(levels=9))
    errs = [p for p in gf.problems if p.severity == "error"]
    assert len(errs) == 1, errs
    p = errs[0]
    assert p.code == "yaml-syntax"
    assert "expand to more than" in p.message and "alias bomb" in p.message
    # at an anchor (&aN on its own line of the document), not at 0:0
    line = shapes.alias_bomb(levels=9).split("\n")[p.range.start_line]
    assert line[p.range.start_col:p.range.end_col].startswith("&a")
    # and every value built from the document stays within the budget
    total = sum(1 for _ in nodes.walk(gf.root))
    assert total < nodes.MAX_EXPANDED_NODES
    assert len(repr(gf.root.py())) < 20 * nodes.MAX_EXPANDED_NODES


def test_aliases_below_the_limit_are_expanded_as_before():
    text = "base: &b {main: x, flags: {lr: 0.1}}\nop1: *b\nop2:\n  <<: *b\n  description: d\n"
    gf = load(text)
    assert not [p for p in gf.problems if p.severity == "error"]
    assert set(gf.models[""].operations) == {"base", "op1", "op2"}
    assert gf.models[""].operations["op2"].find_flag("lr") is not None


def test_alias_bomb_through_check_and_plan(tmp_path):
    (tmp_path / "guild.yml").write_text(shapes.alias_bomb(levels=12))
    r = _cli("check", str(tmp_path))
    assert r.returncode == 1 and "alias bomb" in r.stdout and "Traceback" not in r.stderr
    r = _cli("run", "-C", str(tmp_path), "m:op", "--plan")
    assert r.returncode != 0 and "alias bomb" in r.stderr + r.stdout and "Traceback" not in r.stderr


# --- {{ params }} -------------------------------------------------------------------------

def test_params_bomb_refused_at_the_param():
    text = shapes.params_bomb(levels=40)
    gf = load(text)
    errs = [p for p in gf.problems if p.code == "invalid-param"]
    assert len(errs) == 1, gf.problems
    p = errs[0]
    line = text.split("\n")[p.range.start_line]
    assert line.strip().startswith("p14:") and "more than 100000 characters" in p.message
    desc = gf.models["m"].operations["op"].description
    assert desc is None or len(str(desc)) <= 100_000


def test_params_still_resolve_through_params():
    text = ("- model: m\n  params:\n    a: '{{b}}-x'\n    b: '{{c}}'\n    c: 3\n    n: 5\n"
            "  operations:\n    op:\n      description: 'v {{a}}'\n      main: x\n"
            "      flags: {e: '{{n}}'}\n")
    gf = load(text)
    op = gf.models["m"].operations["op"]
    assert op.description == "v 3-x"
    assert op.flags["e"].default == 5  # a whole-value reference keeps the param's type
    assert not [p for p in gf.problems if p.severity == "error"]


# --- huge integers ------------------------------------------------------------------------

def test_huge_integer_is_a_clear_error_everywhere(tmp_path):
    text = shapes.huge_int()
    gf = load(text)
    probs = diagnose(gf)
    assert [p.code for p in probs] == ["yaml-syntax"] * 3
    assert probs[0].message.startswith("Exceeds the limit (4300 digits) for integer string conversion")
    (tmp_path / "guild.yml").write_text(text)
    r = _cli("check", str(tmp_path))
    assert r.returncode == 1 and "Traceback" not in r.stderr and "Exceeds the limit" in r.stdout
    r = _cli("run", "-C", str(tmp_path), "wf", "--plan")
    assert r.returncode != 0 and "Traceback" not in r.stderr and "Exceeds the limit" in r.stderr


def test_huge_decimal_integer_is_guilds_error():
    gf = load("op:\n  flags:\n    y: " + "9" * 5000 + "\n")
    msgs = [p.message for p in gf.problems]
    # Guild 0.9.0: "Exceeds the limit (4300 digits) for integer string conversion: value has
    # 5000 digits; use sys.set_int_max_str_digits() to increase the limit"
    if sys.version_info >= (3, 11):
        assert msgs == ["Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits; "
                        "use sys.set_int_max_str_digits() to increase the limit"]


# --- did you mean ---------------------------------------------------------------------------

def test_suggest_is_difflib_on_small_sets():
    cands = ["train", "test", "prepare", "evaluate", "tran", "rain"]
    for name in ("trian", "tset", "prepre", "x", "evalute"):
        assert sg.suggest(name, cands) == difflib.get_close_matches(name, cands, n=3, cutoff=0.6)


def test_suggest_on_large_sets_finds_typos_with_bounded_work(monkeypatch):
    cands = {f"operation{i}": None for i in range(5000)}
    cands["train-model"] = None
    assert sg.suggest("trian-model", cands)[0] == "train-model"
    assert sg.suggest("operation1234x", cands)[0] == "operation1234"
    assert sg.suggest("zzzzzz", cands) == []
    # the work per call does not grow with the number of candidates
    ranked = []
    real = difflib.get_close_matches
    monkeypatch.setattr(sg.difflib, "get_close_matches",
                        lambda w, p, n=3, cutoff=0.6: (ranked.append(len(p)), real(w, p, n, cutoff))[1])
    for i in range(200):
        sg.suggest(f"operatoin{i}", cands)
    assert max(ranked) <= sg.MAX_RANKED


def test_many_unknown_steps_all_reported_with_suggestions():
    gf = load(shapes.many_typos(1000))
    probs = [p for p in diagnose(gf) if p.code == "unknown-operation"]
    assert len(probs) == 1000
    assert probs[-1].message == ("operation 'nope999' is not defined for this project "
                                 "(did you mean 'op999'?)")


# --- files that are not guild files ----------------------------------------------------------

def test_check_dir_with_fifo_and_dev_zero(tmp_path):
    import os

    (tmp_path / "a").mkdir()
    os.mkfifo(tmp_path / "a" / "guild.yml")
    (tmp_path / "b").mkdir()
    os.symlink("/dev/zero", tmp_path / "b" / "guild.yml")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "guild.yml").write_text("op:\n  main: x\n")
    r = _cli("check", str(tmp_path))
    assert r.returncode == 2, r
    assert f"{tmp_path / 'a' / 'guild.yml'}: not a regular file" in r.stderr
    assert f"{tmp_path / 'b' / 'guild.yml'}: not a regular file" in r.stderr
    assert "3 files checked: no problems" in r.stderr and "Traceback" not in r.stderr


def test_file_too_large_is_one_clear_error(tmp_path):
    from guildls.model.files import MAX_FILE_BYTES

    with open(tmp_path / "guild.yml", "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    r = _cli("check", str(tmp_path))
    assert r.returncode == 1 and "file is too large to check" in r.stdout and "[file-too-large]" in r.stdout
    r = _cli("run", "-C", str(tmp_path), "op", "--plan")
    assert r.returncode != 0 and "file is too large to check" in r.stderr and "Traceback" not in r.stderr
    gf = load("x" * (MAX_FILE_BYTES + 1))
    assert [p.code for p in gf.problems] == ["file-too-large"]


def test_plan_on_invalid_utf8_is_a_clear_error(tmp_path):
    (tmp_path / "guild.yml").write_bytes(b"op:\n  description: \xff\xfe\n  main: x\n")
    r = _cli("run", "-C", str(tmp_path), "op", "--plan")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "file is not valid UTF-8 (invalid start byte at byte 19)" in r.stderr


def test_broken_pipe_is_quiet(tmp_path):
    (tmp_path / "guild.yml").write_text("".join(f"op{i}:\n  steps: [nope{i}]\n" for i in range(3000)))
    p = subprocess.Popen(f"{sys.executable} -m guildls check {tmp_path} | head -1", shell=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=300)
    assert out.count("\n") == 1 and "nope" in out
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err


# --- extends chains ------------------------------------------------------------------------------

def test_deep_extends_chain_is_guilds_error_not_a_syntax_error():
    # Guild 0.9.0 loads a 200-model chain and fails at 300 (maximum recursion depth exceeded)
    assert not [p for p in diagnose(load(shapes.extends_chain(200))) if p.severity == "error"]
    probs = [p for p in diagnose(load(shapes.extends_chain(3000))) if p.severity == "error"]
    assert [p.code for p in probs] == ["extends-error"]
    assert "'extends' chain deeper than 256 levels" in probs[0].message
    assert "maximum recursion depth exceeded" in probs[0].message
