"""Incremental composition (model/chunks.py) gives exactly what a full parse gives.

Every corpus file, then random edit sequences over it (and over generated large files),
are loaded twice: with the document's ChunkCache (chunks reused by text) and from
scratch; nodes, problems and diagnostics must be identical at every step.
"""

import csv
import dataclasses
import itertools
import os
import random

import pytest

from guildls.analysis import schema_check, semantics
from guildls.analysis.diagnostics import diagnose
from guildls.model import chunks, load, scriptflags
from guildls.model.chunks import ChunkCache
from guildls.model.nodes import MAP, SCALAR, SEQ, Node, Range
from settled import Settler  # tests/, on sys.path (tests/conftest.py)

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "corpus", "real"))
BENCH = os.path.normpath(os.path.join(HERE, "..", "..", "bench"))


def _corpus_texts():
    with open(os.path.join(CORPUS, "MANIFEST.tsv"), newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    out = []
    for r in rows:
        with open(os.path.join(CORPUS, r["file"]), "rb") as f:
            data = f.read()
        try:
            out.append((r["file"], data.decode("utf-8")))
        except UnicodeDecodeError:
            continue
    return out


def _dump(node, seen=None, depth=0):
    """The node tree as plain tuples: kind, value, range, style, tag, src (aliases once)."""
    if node is None:
        return None
    if seen is None:
        seen = {}
    if id(node) in seen:
        return ("alias", seen[id(node)])
    if node.kind != SCALAR:
        seen[id(node)] = len(seen)
    head = (node.kind, node.sl, node.sc, node.el, node.ec, node.style, node.tag, node.src)
    if node.kind == MAP:
        return head + (tuple((_dump(k, seen), _dump(v, seen)) for k, v in node.value),)
    if node.kind == SEQ:
        return head + (tuple(_dump(v, seen) for v in node.value),)
    return head + (repr(node.value),)


def _problems(ps):
    return [(p.code, p.severity, p.message, tuple(p.range), repr(p.data)) for p in ps]


def _model(gf):
    out = []
    for ms in (gf.models, gf.configs):
        for name, m in ms.items():
            for op in m.operations.values():
                assert op.model is m
                out.append((name, m.kind, m.open, op.name, tuple(op.key.range), op.flags_open,
                            tuple((f.name, repr(f.attrs), f.origin) for f in op.flags.values()),
                            tuple((st.opspec, tuple(st.opspec_range or ()), len(st.effective_assigns))
                                  for st in op.steps or ()),
                            tuple((d.kind, d.resource, len(d.sources)) for d in op.requires)))
    refs = [(r.name, tuple(r.range), r.context, r.operation.name) for r in gf.refs]
    return out, refs, gf.format


def _positions(gf):
    """Every position held anywhere in the model (ranges, and the places of the nodes the
    model's objects point at), by path: what a remembered object that moved with its lines
    must hold like a fresh one (a field added later that holds lines is covered too)."""
    out = []
    seen = set()

    def visit(obj, path):
        if isinstance(obj, Range):
            out.append((path, tuple(obj)))
        elif isinstance(obj, Node):
            out.append((path, (obj.sl, obj.sc, obj.el, obj.ec)))
        elif isinstance(obj, (list, tuple)):
            for i, x in enumerate(obj):
                visit(x, path + (i,))
        elif isinstance(obj, dict):
            for k, v in obj.items():
                visit(v, path + (repr(k),))
        elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            if id(obj) in seen:  # back references (a step's operation, an operation's model)
                return
            seen.add(id(obj))
            for f in dataclasses.fields(obj):
                visit(getattr(obj, f.name), path + (f.name,))

    for kind, ms in (("model", gf.models), ("config", gf.configs)):
        for name, m in ms.items():
            visit(m, (kind, name))
    visit(gf.problems, ("problems",))
    visit(gf.refs, ("refs",))
    return out


def _key_index_of(node):
    """What Node._key_index makes of a mapping: its pairs by key value, the last of repeated keys."""
    out = {}
    for k, v in node.value:
        try:
            out[k.value if k.kind == SCALAR else None] = (k, v)
        except TypeError:
            pass
    return out


def _same(text, cache):
    inc = load(text, None, cache)
    full = load(text, None)
    if inc.root is not None and inc.root.kind == MAP:
        # the root's index, given by the chunked compose, is the one its pairs make
        assert inc.root.index() == _key_index_of(inc.root)
    assert _dump(inc.root) == _dump(full.root)
    assert _model(inc) == _model(full)
    assert _positions(inc) == _positions(full)
    assert _problems(inc.problems) == _problems(full.problems)
    assert _problems(diagnose(inc)) == _problems(diagnose(full))
    return inc


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(chunks, "MIN_LINES", 0)  # chunk even the small corpus files


EDIT_SNIPPETS = ["", "  ", "#c", "x", ":", "- ", "  - a", "    flags:", "op9:", "op9: {main: m}", "&a ", "*a",
                 "<<: *a", "---", "'", '"', "|", "{", "[", "\t", "  main: x", "- model: m", "  operations:",
                 "dup: 1", "dup: 2", "a: &a {main: x}", "b: *a", "c:\n  <<: *a", "? k", "%YAML 1.1"]


def _random_edit(rng, text):
    lines = text.split("\n")
    i = rng.randrange(len(lines) + 1)
    op = rng.random()
    if op < 0.25 and lines:  # replace a line
        lines[min(i, len(lines) - 1)] = rng.choice(EDIT_SNIPPETS)
    elif op < 0.45:  # insert a line
        lines.insert(i, rng.choice(EDIT_SNIPPETS))
    elif op < 0.6 and len(lines) > 1:  # delete a line
        del lines[min(i, len(lines) - 1)]
    elif op < 0.8 and lines:  # a character typed inside a line
        j = min(i, len(lines) - 1)
        s = lines[j]
        k = rng.randrange(len(s) + 1)
        lines[j] = s[:k] + rng.choice("ab1: -#\"'&*{[") + s[k:]
    elif lines:  # indent or dedent a line
        j = min(i, len(lines) - 1)
        lines[j] = ("  " + lines[j]) if rng.random() < 0.5 else lines[j][2:]
    return "\n".join(lines)


CORPUS_TEXTS = _corpus_texts()


def test_corpus_files_compose_the_same_in_chunks(small_chunks):
    used = 0
    for _name, text in CORPUS_TEXTS:
        cache = ChunkCache()
        _same(text, cache)
        used += cache.composed > 0
    assert used > 100  # most files are split, not sent to the full compose


@pytest.mark.parametrize("seed", range(4))
def test_random_edit_sequences_over_the_corpus(small_chunks, seed):
    rng = random.Random(seed)
    texts = rng.sample(CORPUS_TEXTS, 15)
    reused = 0
    for _name, text in texts:
        cache = ChunkCache()
        _same(text, cache)
        for _ in range(10):
            text = _random_edit(rng, text)
            _same(text, cache)
            reused += cache.reused
    assert reused > 0


def test_edits_in_a_large_file_reuse_the_other_operations():
    import sys

    sys.path.insert(0, BENCH)
    from gen import realistic

    text = realistic(300)
    cache = ChunkCache()
    _same(text, cache)
    n = cache.composed
    assert n == 300 and cache.reused == 0
    rng = random.Random(7)
    lines = text.split("\n")
    # one line edited in the middle: only that operation is composed again
    mid = len(lines) // 2
    while not lines[mid].startswith("    "):
        mid += 1
    lines[mid] = lines[mid] + "  # edited"
    _same("\n".join(lines), cache)
    assert cache.composed == 1 and cache.reused == 299
    assert cache.hits > 400  # schema and semantic checks of the other operations remembered
    # a line inserted at the top: every operation moves down, none is composed again
    lines.insert(0, "# header")
    _same("\n".join(lines), cache)
    assert cache.composed == 0 and cache.reused == 300
    assert cache.hits > 400  # and what the checks remembered moved with them
    # random edits all over: still the same as a full parse
    text = "\n".join(lines)
    for _ in range(40):
        text = _random_edit(rng, text)
        _same(text, cache)


LINE_INSERTS = ["", "# c", "  ", "    # c", "  # note"]


def _faulty(n):
    """Operations and workflows with problems of every pass: schema, references, steps
    (flag assignments), dependencies, cycles."""
    return "".join(f"""op{i}:
  main: train --e ${{epochs}} --u ${{undef{i}}}
  bogus-attr: {i}
  flags:
    lr: {{default: 0.1, type: float, min: 0, max: 1}}
    epochs: 3
    opt: {{choices: [a, b], default: c}}
  requires:
    - operation: nosuch{i}
    - file: data.csv
      bad-key: 1
wf{i}:
  flags: {{lr: 0.2}}
  steps:
    - op{i} lr=abc zz=1 epochs=${{lr}}
    - run: nosuch{i}
      flags: {{q: 1}}
    - run: wf{i}
    - op{max(i - 1, 0)} opt=b
""" for i in range(n // 2))


@pytest.mark.parametrize("shape", ["flat", "realistic", "faulty"])
def test_lines_inserted_and_deleted_move_what_was_remembered(shape):
    # Enter, or a line removed, in a large file: every operation below moves, keeping what
    # was built and checked for it (problems, references, steps and their flag assignments)
    import sys

    sys.path.insert(0, BENCH)
    from gen import GENERATORS

    text = _faulty(150) if shape == "faulty" else GENERATORS[shape](150)
    cache = ChunkCache()
    _same(text, cache)
    rng = random.Random(21)
    moved = 0
    for step in range(40):
        lines = text.split("\n")
        i = rng.randrange(1, len(lines))
        r = rng.random() * (0.85 if step < 30 else 1)  # lines duplicated or removed at the end
        if r < 0.35:
            lines.insert(i, rng.choice(LINE_INSERTS))
        elif r < 0.6:
            lines[i:i] = [rng.choice(LINE_INSERTS) for _ in range(rng.randrange(2, 6))]
        elif r < 0.85:
            blank = [j for j, line in enumerate(lines) if not line.strip() or line.strip().startswith("#")]
            if blank:
                del lines[rng.choice(blank)]  # Backspace on an empty line
        elif r < 0.95:
            lines.insert(i, lines[i])  # a line duplicated: a repeated key, or a broken entry
        else:
            del lines[i]  # the same: the checks say so, as in a full parse
        text = "\n".join(lines)
        _same(text, cache)
        moved += cache.hits > 150 and cache.composed <= 1 and cache.reused > 100
    assert moved >= 10  # remembered results were reused after the moves, many times


def _chunk_starts(text):
    """(first line, first offset) of every top-level entry, as chunks._split finds them,
    or None when the text must be composed whole."""
    found = chunks._split(text)
    if found is None:
        return None
    head, texts, starts = found
    offsets = list(itertools.accumulate(map(len, texts[:-1]), initial=len(head))) if texts else []
    return starts, offsets


def _chunk_starts_by_lines(text):
    """The reference for chunks._split's entries: a loop over the lines."""
    lines = text.split("\n")
    starts, offsets, off = [], [], 0
    for i, line in enumerate(lines):
        if line and line[0] not in " \t\r#":
            if line[0] in "%?&!*|>[{@`" or line.startswith(("---", "...", "<<")):
                return None
            starts.append(i)
            offsets.append(off)
        off += len(line) + 1
    return starts, offsets


def test_chunk_starts_match_a_loop_over_the_lines():
    rng = random.Random(5)
    heads = ["op:", "  x: 1", "", "#c", " #c", "\t- a", "- b", "a: 1", "é: 2", "---", "...", "<<: *a", "&a b:",
             "%YAML", "? k", "[a]", "{a: 1}", "|", "'q': 1", '"q": 1', "\x0cx", "x\x0b: 1"]
    for _ in range(3000):
        text = "\n".join(rng.choice(heads) for _ in range(rng.randrange(0, 12)))
        if rng.random() < 0.3:
            text += "\n"
        assert _chunk_starts(text) == _chunk_starts_by_lines(text), repr(text)


WORKFLOWS = """\
a:
  main: m
  flags:
    lr: 0.1
b:
  main: m
  flags: {x: 1}
w1:
  flags: {lr: 0.1}
  steps:
    - a lr=${lr}
    - w2
w2:
  steps:
    - run: b
      flags: {x: 2}
    - w3
w3:
  steps:
    - w1
    - c
"""
WORKFLOW_EDITS = ["    - w1", "    - w2", "    - w3", "    - a", "    - b", "    - zz", "  main: m", "w4:",
                  "  steps:", "w1:", "c:", "  flags: {y: 1}", "    - a y=1", "    - run: w3", ""]


def _random_line_edits(seed, trials, start, replacements):
    """`trials` sequences of 40 lines replaced or inserted, cache vs full parse at each step."""
    rng = random.Random(seed)
    for trial in range(trials):
        text = start
        cache = ChunkCache()
        _same(text, cache)
        for _ in range(40):
            lines = text.split("\n")
            i = rng.randrange(len(lines))
            if rng.random() < 0.6:
                lines[i] = rng.choice(replacements)
            else:
                lines.insert(i, rng.choice(replacements))
            text = "\n".join(lines)
            _same(text, cache)


def test_random_edits_of_workflows_and_step_cycles(small_chunks):
    # the cycles and the step checks are remembered per workflow: renamed operations,
    # workflows becoming plain operations and back, cycles made and broken
    _random_line_edits(9, 6, WORKFLOWS, WORKFLOW_EDITS)


MODEL_WORKFLOWS = """\
- model: m1
  operations:
    a:
      main: m
    w1:
      steps:
        - m2:w2
        - w3
    w3:
      steps:
        - w1
        - a
- model: m2
  operations:
    w2:
      steps:
        - m1:w1
        - m:w3
        - w4
    w4:
      steps:
        - m2:w2
"""
MODEL_WORKFLOW_EDITS = ["        - w1", "        - m1:w3", "        - m2:w4", "        - m:w1", "        - w2",
                        "        - m1:a", "        - zz:w1", "    w1:", "    w2:", "    w4:", "    a:",
                        "      main: m", "      steps:", "- model: m2", "- model: m1", "- model: m3",
                        "  operations:", "        - :w1", ""]


def test_random_edits_of_workflows_across_models(small_chunks):
    # steps naming operations of other models (`model:op`, partial model names), what each
    # step resolves to, renamed models and operations, cycles across models
    _random_line_edits(12, 8, MODEL_WORKFLOWS, MODEL_WORKFLOW_EDITS)


def _same_at(text, cache, path):
    inc = load(text, path, cache)
    inc_positions = _positions(inc)
    kept = scriptflags._dir_cache, scriptflags._found
    scriptflags._dir_cache, scriptflags._found = {}, {}  # the full load lists the directories again
    try:
        full = load(text, path)
    finally:
        scriptflags._dir_cache, scriptflags._found = kept
    assert _model(inc) == _model(full)
    assert inc_positions == _positions(full)
    assert _problems(diagnose(inc)) == _problems(diagnose(full))


def test_edits_while_the_scripts_change(small_chunks, tmp_path):
    # flags read from a script are never taken from the memo: the script may change while
    # the guild file does not
    path = str(tmp_path / "guild.yml")
    text = ("train:\n  main: train --e ${epochs}\n  flags-import: all\n  flags:\n    lr: 0.1\n"
            "wf:\n  steps:\n    - train lr=1 epochs=2\n    - other\n"
            "other:\n  main: other\n  flags-import: [epochs]\n  flags:\n    x: 1\n")
    cache = ChunkCache()
    _same_at(text, cache, path)
    scripts = ["import argparse\np = argparse.ArgumentParser()\np.add_argument('--epochs', type=int)\n"
               "p.parse_args()\n", "epochs = 3\n", "import argparse\np = argparse.ArgumentParser()\n"
               "p.add_argument('--lr', type=float)\np.parse_args()\n", None]
    rng = random.Random(4)
    settle = Settler()
    for step in range(60):
        for name in ("train.py", "other.py"):
            script = rng.choice(scripts)
            f = tmp_path / name
            if script is None:
                if f.exists():
                    f.unlink()
            elif rng.random() < 0.7:
                f.write_text(script + f"# {step}\n")
        if rng.random() < 0.7:
            # an old mtime, distinct each time: the directory's listing is kept for the
            # next load (scriptflags.SourceFinder), which must still see what changed
            settle(tmp_path)
        if rng.random() < 0.5:
            lines = text.split("\n")
            i = rng.randrange(len(lines))
            lines[i] = lines[i] + rng.choice(["", " ", "  # c"])
            text = "\n".join(lines)
        _same_at(text, cache, path)


def test_scripts_behind_links_are_looked_up_each_time(small_chunks, tmp_path):
    # train.py is a link to a file outside the project: it comes and goes while the
    # project's directory (its listing) stays the same, so the lookup by position must not
    # take "no script" from the last pass for it
    project, elsewhere = tmp_path / "p", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    (project / "train.py").symlink_to(elsewhere / "train.py")
    path = str(project / "guild.yml")
    text = ("train:\n  main: train\n  flags-import: all\n  flags:\n    lr: 0.1\n"
            "other:\n  main: other\n  flags:\n    x: 1\n"
            "wf:\n  steps:\n    - train epochs=2\n    - other\n")
    cache = ChunkCache()
    settle = Settler()
    settle(project)
    _same_at(text, cache, path)
    rng = random.Random(6)
    flags_seen = set()
    for step in range(30):
        if rng.random() < 0.5:
            (elsewhere / "train.py").write_text("epochs = 3\n" if rng.random() < 0.5 else "lr = 0.1\n")
        elif (elsewhere / "train.py").exists():
            (elsewhere / "train.py").unlink()
        lines = text.split("\n")
        i = rng.randrange(len(lines))
        lines[i] = lines[i].rstrip() + rng.choice(["", " "])
        text = "\n".join(lines)
        _same_at(text, cache, path)
        gf = load(text, path, cache)
        flags_seen.add(tuple(sorted(gf.models[""].operations["train"].flags)))
    assert flags_seen == {("epochs", "lr"), ("lr",)}


def test_memo_entries_stay_while_used_and_the_table_stays_bounded():
    cache = ChunkCache()
    nodes = [object() for _ in range(1000)]
    cache.new_version()
    for i, n in enumerate(nodes):
        cache.remember(("k", i), n, i)
    assert cache.recall(("k", 1), nodes[1]) == 1 and cache.recall(("k", 1), nodes[2]) is None  # this very object
    for version in range(5):
        cache.new_version()
        # each version uses ten of the entries and makes five new ones
        for i in range(10):
            assert cache.recall(("k", i), nodes[i]) == i
        for j in range(5):
            cache.remember(("new", version, j), nodes[j], j)
    # the 990 entries no version used since are gone; the table holds about what a
    # version uses (swept when it holds more than twice that, plus a margin)
    assert sorted(k for k in cache._memo if k[0] == "k") == [("k", i) for i in range(10)]
    assert len(cache._memo) <= 2 * 15 + 64 + 5
    for _ in range(3):
        cache.new_version()
    assert cache.recall(("k", 3), nodes[3]) == 3  # a small table is not swept: still there


# ---------------------------------------------------------------------------------
# semantics.check keeps its last results by position (_Positions): with the same names
# and no line moved, only the operations that changed, the workflows running them and
# what is checked each time are checked again

POSITIONS = """\
a:
  main: m
  flags:
    x: 1
b:
  main: m
  flags:
    y: 1
w:
  steps:
    - a x=2
    - run: b
      flags:
        y: 2
    - v
v:
  steps:
    - b
u:
  steps:
    - w
p:
  main: m
  requires:
    - operation: a
"""


@pytest.fixture
def again_calls(monkeypatch):
    """How many checks took the last check's results by position."""
    calls = []
    real = semantics._again

    def spy(*args):
        out = real(*args)
        calls.append(out)
        return out

    monkeypatch.setattr(semantics, "_again", spy)
    return calls


def _codes_at(problems):
    return sorted((p.range.start_line + 1, p.code) for p in problems)


def test_positions_see_what_an_edit_elsewhere_changes(small_chunks, again_calls):
    cache = ChunkCache()
    lines = POSITIONS.split("\n")
    gf = _same(POSITIONS, cache)
    assert _codes_at(diagnose(gf)) == []

    def edit(lineno, new):
        lines[lineno - 1] = new
        n = len(again_calls)
        gf = _same("\n".join(lines), cache)
        reused = len(again_calls) > n
        return _codes_at(diagnose(gf)), reused

    # a's flag renamed: the step of w that sets x (another operation) now sets an unknown flag
    assert edit(4, "    z: 1") == ([(11, "unknown-flag")], True)
    assert edit(4, "    x: 1") == ([], True)
    # b's flag renamed: w's `flags:` mapping for b
    assert edit(8, "    q: 1") == ([(14, "unknown-flag")], True)
    assert edit(8, "    y: 1") == ([], True)
    # a step of v now runs w: a cycle made by an edit outside w, then broken again
    assert edit(18, "    - w") == ([(18, "step-cycle")], True)
    assert edit(18, "    - b") == ([], True)
    # a workflow calls itself, then not
    assert edit(21, "    - u") == ([(21, "step-cycle")], True)
    assert edit(21, "    - w") == ([], True)
    # a renamed operation: the steps naming it break (other names: all checked again)
    assert edit(5, "c:") == ([(12, "unknown-operation"), (18, "unknown-operation")], False)
    assert edit(5, "b:") == ([], False)
    # a becomes a workflow of itself and back (the same names: by position)
    assert edit(2, "  steps: [a]") == ([(2, "step-cycle")], True)
    assert edit(2, "  main: m") == ([], True)


STEPS = ["    - a x=2", "    - a z=3", "    - a", "    - b", "    - v", "    - u", "    - w", "    - p", "    - zz"]
# line (0-based) of POSITIONS -> what may replace it (each keeps the YAML valid)
POSITION_EDITS = {
    1: ["  main: m", "  steps: [a]", "  steps: [w]", "  description: d"],
    3: ["    x: 1", "    z: 1", "    y: 1", "    x: {type: int}"],
    5: ["  main: m", "  steps: [b]", "  steps: [v]"],
    7: ["    y: 1", "    q: 1", "    x: 1"],
    10: STEPS,
    11: ["    - run: b", "    - run: a", "    - run: zz", "    - run: v"],
    13: ["        y: 2", "        x: 2", "        q: 1"],
    14: STEPS,
    17: STEPS,
    20: STEPS,
    22: ["  main: m", "  steps: [a]", "  steps: [u]"],
    24: ["    - operation: a", "    - operation: w", "    - operation: zz", "    - operation: b"],
}


def _replaced(text, edits, seed, trials, insert_every=0):
    """(cache, text) for `trials` sequences of 40 edits of `text`: a line replaced by one of
    `edits` (line -> replacements), and with `insert_every`, an empty line inserted
    somewhere every that many steps. Each sequence starts from `text` with a new cache."""
    base = text.split("\n")
    rng = random.Random(seed)
    for _trial in range(trials):
        lines = list(base)
        cache = ChunkCache()
        _same(text, cache)
        for step in range(40):
            i = rng.choice(list(edits))
            lines[i] = rng.choice(edits[i])
            shown = list(lines)
            if insert_every and step % insert_every == insert_every - 1:
                shown.insert(rng.randrange(len(shown)), "")
            yield cache, "\n".join(shown)


def test_random_edits_that_keep_every_line_where_it_is(small_chunks, again_calls):
    # lines replaced, never inserted, the names kept: most checks take the last results by
    # position; each must still be what a full parse says
    for cache, text in _replaced(POSITIONS, POSITION_EDITS, 5, 6):
        _same(text, cache)
    assert len(again_calls) > 200


def test_common_ends_match_a_loop_over_the_items():
    def loop(new, old):
        n = min(len(new), len(old))
        a = 0
        while a < n and new[a] is old[a]:
            a += 1
        b = 0
        while b < n - a and new[-1 - b] is old[-1 - b]:
            b += 1
        return a, b

    rng = random.Random(3)
    objs = [object() for _ in range(20)]
    for _ in range(5000):
        old = [rng.choice(objs[:5]) for _ in range(rng.randrange(12))]
        new = list(old)
        for _ in range(rng.randrange(3)):
            i = rng.randrange(len(new) + 1)
            r = rng.random()
            if r < 0.3:
                new.insert(i, rng.choice(objs))
            elif new:
                i = min(i, len(new) - 1)
                if r < 0.6:
                    del new[i]
                else:
                    new[i] = rng.choice(objs)
        assert chunks.common_ends(new, old) == loop(new, old)


OPENING = """\
a:
  main: m
  flags:
    x: 1
b:
  flags:
    $include: pkg/m:op
  main: m
c:
  main: m
  flags:
    y: 1
w:
  steps:
    - c y=2
    - a x=3
d:
  flags:
    $include: a
  main: m
"""
OPENING_EDITS = {
    3: ["    x: 1", "    x: 2", "    z: 1"],
    6: ["    $include: pkg/m:op", "    $include: a", "    $include: c", "    q: 1"],
    11: ["    y: 1", "    y: 2", "    x: 1"],
    14: ["    - c y=2", "    - c x=2", "    - a x=3", "    - b"],
    18: ["    $include: a", "    $include: c", "    $include: pkg/x:y"],
}


def test_operations_built_by_position_when_one_opens_the_model(small_chunks):
    # b's flags include a package's (Guild cannot know them: the model becomes open while
    # its operations are built); d's include another operation's: built each time. Lines
    # replaced, then lines inserted above and Enter pressed inside: same as a full parse
    for cache, text in _replaced(OPENING, OPENING_EDITS, 8, 5, insert_every=10):
        _same(text, cache)


MODELS = """\
- model: m1
  operations:
    a:
      main: m
      flags:
        x: 1
      colour: red
    $include: c1
    b:
      main: m
      description: 3
- config: c1
  operations:
    i:
      main: m
      sourcecode: 5
- model: m2
  operation-defaults:
    label: x
  operations:
    c:
      main: m
      steps: 4
    d:
      exec: 5
      flags:
        y: {type: nope}
"""
MODEL_EDITS = {
    6: ["      colour: red", "      label: red", "      tags: red"],
    7: ["    $include: c1", "    e: {main: m}", "    e: {main: m, nope: 1}"],
    10: ["      description: 3", "      description: ok", "      nope: 2"],
    15: ["      sourcecode: 5", "      sourcecode: no", "      label: 7"],
    18: ["    label: x", "    lable: x", "    label: [1]"],
    22: ["      steps: 4", "      steps: []", "      label: [1]"],
    26: ["        y: {type: nope}", "        y: {type: int}", "        y: {default: [1, {a: 2}]}"],
}


def test_schema_problems_taken_by_position_across_models(small_chunks, monkeypatch):
    # schema problems of operations in several models (and a config, `$include` among
    # operations, operation-defaults): lines replaced, and sometimes a line inserted, at
    # every step the same as a full parse; most steps take other models' checks by position
    taken = []
    real = schema_check._Walker._take
    monkeypatch.setattr(schema_check._Walker, "_take", lambda self, *a: taken.append(1) or real(self, *a))
    for cache, text in _replaced(MODELS, MODEL_EDITS, 11, 5, insert_every=8):
        gf = _same(text, cache)
        assert any(p.code != "yaml-syntax" for p in diagnose(gf))
    assert len(taken) > 200
