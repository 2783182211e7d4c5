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


def test_many_unknown_steps_all_reported_suggestions_within_a_budget():
    gf = load(shapes.many_typos(1000))
    probs = [p for p in diagnose(gf) if p.code == "unknown-operation"]
    assert len(probs) == 1000  # every one reported
    with_sugs = [p for p in probs if "did you mean" in p.message]
    # the first ones in the document get a suggestion, until the pass's budget is spent
    assert probs[0].message.startswith("operation 'nope0' is not defined for this project (did you mean 'op0'")
    assert with_sugs == probs[:len(with_sugs)]
    assert len(with_sugs) == sg.BUDGET // sg.INDEX_COST
    assert probs[-1].message == "operation 'nope999' is not defined for this project"
    # the budget is per pass: the next check of the document says the same
    assert [p.message for p in diagnose(load(shapes.many_typos(1000)))] == [p.message for p in probs]


def test_did_you_mean_work_is_bounded_per_pass(monkeypatch):
    # 3,000 unknown steps against 200 operations: exhaustive difflib searches (6 s before)
    compared = []
    real = difflib.get_close_matches
    monkeypatch.setattr(sg.difflib, "get_close_matches",
                        lambda w, p, n=3, cutoff=0.6: (compared.append(len(p)), real(w, p, n, cutoff))[1])
    probs = [p for p in diagnose(load(shapes.typos_few_ops(200, 3000))) if p.code == "unknown-operation"]
    assert len(probs) == 3000
    assert sum(compared) <= sg.BUDGET + 200
    assert "did you mean 'op0'" in probs[0].message


def test_suggestions_do_not_depend_on_hash_order():
    # more than MAX_RANKED candidates within two edits: which ones are ranked is fixed
    code = ("from guildls.analysis.suggest import suggest; "
            "c = {f'op{i}': None for i in range(3000)}; print(suggest('nope5', c))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                           env={**__import__("os").environ, "PYTHONHASHSEED": str(seed)}).stdout
            for seed in (1, 2, 3, 4)}
    assert len(outs) == 1, outs


# --- deep nesting -------------------------------------------------------------------------

DEEP = ["deep_flow_seq", "deep_flow_map", "deep_block_seq", "deep_block_map", "deep_flag_value"]


@pytest.mark.parametrize("shape", DEEP)
def test_deep_nesting_is_one_clear_error(shape):
    gf = load(getattr(shapes, shape)())
    probs = diagnose(gf)
    assert [p.code for p in probs] == ["yaml-syntax"], probs
    msg = probs[0].message
    assert ("exceeded maximum nesting depth" in msg and "Guild fails to load the file (maximum recursion depth "
            "exceeded)" in msg) or msg == "document is nested too deeply", msg


def test_deep_nesting_skips_the_quadratic_python_scanner(monkeypatch):
    # Guild's wording comes from PyYAML's Python loader; on deep nesting it must give up early
    calls = []
    real = nodes._WordingLoader.save_possible_simple_key

    def counting(self):
        calls.append(1)
        return real(self)

    monkeypatch.setattr(nodes._WordingLoader, "save_possible_simple_key", counting)
    load("[" * 999)  # unclosed, within libyaml's limit: the Python loader is asked for wording
    assert 0 < len(calls) <= nodes.PY_LOADER_FLOW_LEVELS + 2
    calls.clear()
    load("[" * 3000)  # past libyaml's limit: not asked at all
    assert calls == []


def test_deep_nesting_through_check_and_plan(tmp_path):
    for shape in DEEP:
        d = tmp_path / shape
        d.mkdir()
        (d / "guild.yml").write_text(getattr(shapes, shape)())
        r = _cli("check", str(d))
        assert r.returncode == 1 and "Traceback" not in r.stderr, (shape, r.stdout, r.stderr)
        assert "nest" in r.stdout, (shape, r.stdout)
        r = _cli("run", "-C", str(d), "op", "--plan")
        assert r.returncode != 0 and "Traceback" not in r.stderr, (shape, r.stdout, r.stderr)
        assert "nest" in (r.stdout + r.stderr), (shape, r.stdout, r.stderr)


# --- positions on long lines -------------------------------------------------------------

def test_utf16_columns_of_a_long_line_are_computed_once(monkeypatch):
    from guildls.lsp.positions import Columns

    line = "\U0001F600" + "a" * 30000
    cols = Columns([line], "utf-16")
    calls = []
    real = Columns._units
    monkeypatch.setattr(Columns, "_units", lambda self, ch: (calls.append(1), real(self, ch))[1])
    got = [cols.to_client(0, i * 7) for i in range(4000)]
    assert got[:3] == [0, 8, 15] and got[-1] == 3999 * 7 + 1
    assert cols.from_client(0, 2) == 1 and cols.from_client(0, 1) == 1  # inside the emoji: after it
    assert len(calls) <= len(line)  # once per character, not once per position


# --- line breaks YAML counts and LSP does not ---------------------------------------------

def test_positions_after_nel_ls_ps_are_on_the_editors_lines():
    text = 'op:\n  description: "a\u2028b\x85c\u2029d"\n  main: m\n  flags: {lr: 0.1}\nwf:\n  steps: [op lr=x, trian]\n'
    gf = load(text)
    lines = text.split("\n")
    assert gf.lines == lines[:len(gf.lines)]
    probs = {p.code: p for p in diagnose(gf)}
    r = probs["unknown-operation"].range
    assert lines[r.start_line][r.start_col:r.end_col] == "trian"
    # and a CR-only file: the model's lines are the editor's
    gf = load(text.replace("\n", "\r"))
    assert gf.lines == lines[:len(gf.lines)]
    r = next(p for p in diagnose(gf) if p.code == "unknown-operation").range
    assert lines[r.start_line][r.start_col:r.end_col] == "trian"


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
