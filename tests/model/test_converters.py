"""The three ways a text becomes nodes give the same node trees, problems and values:
the event builder (documents without aliases: nodes built from libyaml's events), the
alias-free converter (PyYAML's compose, then one conversion) and the general converter
(aliases shared, expansion counted); and the plain-value shortcut of ``Node.py`` gives
what the general walk gives. Over the corpus, the generated bench files, and samples of
anchors, tags, merges, YAML 1.1 scalars, huge integers, errors and deep nesting."""

import os
import sys

import pytest

from guildls.model import nodes
from guildls.model.nodes import MAP, SEQ

from guildls.analysis.diagnostics import diagnose
from guildls.model import load

from .test_incremental import BENCH, CORPUS_TEXTS, _dump, _model, _problems

sys.path.insert(0, BENCH)
from gen import GENERATORS  # noqa: E402

SAMPLES = [
    "a: &x 1\nb: *x\n",
    "base: &b {x: 1, y: [1, 2]}\nop:\n  <<: *b\n  y: 3\n",
    "op:\n  <<: {main: m, flags: {a: 1}}\n  description: d\n",
    "op: !!str 12\nb: !weird x\nc: &anchor\n  - 1\n  - !!int '7'\n",
    "a: 1\na: 2\nb: [x, {c: d}]\nc: 2020-01-01\nd: 0x1F\ne: 1e-3\n",
    "op: {flags: {lr: {default: 0.1, choices: [0.1, 0.2]}}, main: 'x !y & z'}\n",
    "a: [1, 2\nb: 3\n",  # a syntax error: recovered composes
    # YAML 1.1 scalars (plain, quoted, tagged), with Guild's float rule
    "a: yes\nb: on\nc: off\nd: No\ne: 0755\nf: 0o17\ng: 0x1F\nh: 0b101\ni: 1:30\nj: 190:20:30.15\n"
    "k: 1_000\nl: ~\nm: null\nn: NULL\no: .inf\np: -.Inf\nq: .NaN\nr: 1e-3\ns: 1.0e3\n"
    "t: 2001-12-14t21:59:43.10-05:00\nu: 2002-12-14\nv: !!str 12\nw: !!int '7'\nx: !!float 3\n"
    "y: !!bool yes\nz: !!null ''\naa: '12'\nbb: \"yes\"\ncc: |\n  block\ndd: >\n  folded\nee: ! 12\n"
    "ff: !!binary aGVsbG8=\ngg: !!timestamp nope\nhh: 12:60\nii: =\njj: <<\nkk: 0x_1F\nll: +12\n"
    "mm: -0\nnn: 1.\noo: .5\npp:\nqq: ''\nrr: \"multi\n  line\"\nss: 'x''y'\n",
    "1: a\n1.0: b\ntrue: c\n~: d\nnull: e\n2020-01-01: f\n? [a, b]\n: c\n? {x: y}\n: z\n",
    "a: !!map {b: 1}\nb: !!omap [a: 1]\nc: !!pairs [a: 1]\nd: !!int nope\ne: !!float nope\n"
    "f: !!bool maybe\n",
    "a: 'x !y & z'\nb: x !y\nc: \"&notanchor\"\nd: &anch   value\ne: !!str    value\nf: &a1 !!int   12\n",
    "%TAG !e! tag:example.com,2000:\n---\na: !e!foo 1\n",
    "!!map {a: 1}\n", "!weird {a: 1}\n", "!!seq [1]\n", "plain scalar root\n", "---\n", "--- a\n",
    "# just a comment\n", "", "[1, 2, {a: b}]\n",
    # merge keys: inline mappings, lists of them, tags, repeated keys inside, not mappings
    "op:\n  <<: {main: m, flags: {a: 1}}\n  <<: [{x: 1}, {y: 2, main: z}]\n  description: d\n  main: own\n",
    "op:\n  <<: [{x: 1, x: 2}, !weird {y: 2}]\n  a: !bad 1\n  a: 3\n",
    "op:\n  !!merge m: {a: 1}\n  b: 2\n", "<<: {a: 1}\nb: 2\n",
    "op:\n  <<: !!set {a, b}\n  <<: 5\n  <<: !foo [ {q: 1} ]\n",
    # anchors without aliases, repeated anchors, several documents, syntax errors
    "a: &x [1, &y 2]\nb: &z {c: &w d}\nc: !!str &q v\nd: &r !!str v\n",
    "a: &x 1\nb: &x 2\n", "- &a x\n- &a y\n", "a: 1\n---\nb: 2\n",
    # '*' that is not an alias, aliases after a while, undefined and repeated anchors
    "a: 1\nselect: data/.*\\.csv\nb: '*.pt'\nc: [x*y, '*']\n", "a: &x 1\nb: [*x, '*']\n",
    "a: *nope\n", "a: &x 1\nb: &x 2\nc: *x\n", "a: [1, 2\nb: *x\n",
    "a: 1\na: 2\na: 3\nb: [1, 2\nc: 3\n", "a: b: c\n", "a:\n  - b\n  -c\n d: e\n",
    "%YAML 1.1\n---\na: 1\n", "  a: 1\n  b: 2\n",
    # integers past Python's digit limit
    "big: 0x" + "F" * 4000 + "\ndec: " + "9" * 5000 + "\n", "a: !!int 0x" + "F" * 4000 + "\n",
    # nesting: under and over the builder's depth, and past libyaml's
    "a: " + "[" * 99 + "]" * 99 + "\n", "a: " + "[" * 101 + "]" * 101 + "\n", "a: {" * 120 + "}" * 120,
    "".join(" " * i + f"k{i}:\n" for i in range(150)) + " " * 150 + "v: 1\n", "[" * 999,
]


def _texts():
    yield from (t for _, t in CORPUS_TEXTS)
    yield from SAMPLES
    for g in GENERATORS.values():
        yield g(30)


def _composed(text, way):
    real = nodes._PlainConverter, nodes._EventParser
    if way != "events":
        nodes._EventParser = None  # PyYAML's compose, then a converter
    if way == "general":
        nodes._PlainConverter = nodes._Converter
    try:
        c = nodes.compose(text)
    finally:
        nodes._PlainConverter, nodes._EventParser = real
    return (_dump(c.root), [(e.message, tuple(e.range)) for e in c.syntax_errors],
            [(tuple(a.range), tuple(b.range)) for a, b in c.duplicates], c.partial), c.root


TEXTS = list(_texts())


@pytest.mark.parametrize("text", TEXTS, ids=[f"text{i}" for i in range(len(TEXTS))])
def test_event_builder_and_alias_free_converter_match_the_general_code(text):
    built, root = _composed(text, "events")
    fast, _ = _composed(text, "plain")
    slow, _ = _composed(text, "general")
    assert fast == slow
    assert built == slow
    if root is not None:
        for n in nodes.walk(root):
            if n.kind in (MAP, SEQ):
                assert n.py() == n.py(set())  # the shortcut vs the general walk



def _fresh_index(node):
    """What ``Node._key_index`` computes for a mapping from its pairs."""
    idx = {}
    for k, v in node.value:
        try:
            idx[k.value if k.kind == nodes.SCALAR else None] = (k, v)
        except TypeError:
            pass
    return idx


@pytest.mark.parametrize("text", TEXTS, ids=[f"text{i}" for i in range(len(TEXTS))])
def test_the_key_index_the_builder_makes_is_the_one_get_would_make(text):
    """The builder indexes a mapping's keys while it reads them (when they are distinct
    strings): the index must be what ``get`` would have built from the pairs, and every
    node it makes without ``__init__`` has every slot set."""
    _, root = _composed(text, "events")
    if root is None:
        return
    for n in nodes.walk(root):
        assert n._index is None or n.kind == MAP
        assert n.orig is None and n.src is None and n.kind in (MAP, SEQ, nodes.SCALAR)
        (n.sl, n.sc, n.el, n.ec, n.style, n.tag, n.value)
        if n.kind == MAP:
            built = n._index
            assert n._key_index() == _fresh_index(n)
            if built is not None:
                assert list(built.items()) == list(_fresh_index(n).items())
                for k, pair in built.items():
                    assert n.get(k) is pair[1] and n.get_pair(k) is pair and k in n


@pytest.mark.parametrize("text", TEXTS, ids=[f"text{i}" for i in range(len(TEXTS))])
def test_models_and_diagnostics_from_the_builder_are_those_from_the_converter(text, monkeypatch):
    """End to end: the builder's shortcuts (key indexes, lazy scalars, nodes made in the
    loop) give the same model and the same diagnostics as PyYAML's compose + converter."""
    gf = load(text)
    built = (_model(gf), _problems(diagnose(gf)))
    monkeypatch.setattr(nodes, "_EventParser", None)
    gf = load(text)
    assert built == (_model(gf), _problems(diagnose(gf)))

def test_the_builder_is_what_composes_documents_without_aliases(monkeypatch):
    calls = []
    real = nodes._Converter.convert
    monkeypatch.setattr(nodes._Converter, "convert", lambda self, y: (calls.append(1), real(self, y))[1])
    nodes.compose("a: 1\nselect: data/.*\\.csv\nb: '*.pt'\nc: [x*y, '*']\n")  # '*' but no alias
    assert calls == []
    nodes.compose("a: &x 1\nb: [*x, '*']\n")
    assert calls


def test_a_full_memo_keeps_its_texts_one_generation_more(monkeypatch):
    """Unique texts (names, descriptions) fill the memo of typed plain scalars in a large
    file; the texts every operation repeats are then taken from the previous generation
    instead of being typed again by the resolver's regular expressions."""
    monkeypatch.setattr(nodes, "_PLAIN_MEMO_MAX", 100)
    nodes._PLAIN_MEMO.clear()
    nodes._PLAIN_OLD.clear()
    resolved = []
    nodes._typed_plain("0.5", None, None, None, [])  # makes the resolver when there is none
    real = nodes._RESOLVER[0].resolve
    monkeypatch.setattr(nodes._RESOLVER[0], "resolve", lambda *a: (resolved.append(a[1]), real(*a))[1])
    text = "".join(f"op{i}:\n  main: t{i}\n  lr: 0.01\n  on: yes\n" for i in range(400))
    root = nodes.compose(text).root
    assert all(v.get("lr").value == 0.01 and v.get(True).value is True for _, v in root.value)
    assert len(nodes._PLAIN_MEMO) <= 100
    assert resolved.count("0.01") == 1 and resolved.count("yes") == 1 and resolved.count("on") == 1
    assert resolved.count("op7") == 1


def test_plain_scalars_are_typed_once_per_text_and_when_read(monkeypatch):
    nodes._PLAIN_MEMO.clear()
    calls = []
    real = nodes._typed_plain
    monkeypatch.setattr(nodes, "_typed_plain", lambda text, *a: (calls.append(text), real(text, *a))[1])
    big = "0x" + "F" * 4000
    c = nodes.compose(f"a: 1\nb: 1\nc: [1, 1, x, 'x', yes]\nd: {big}\ne: {big}\n")
    # keys and 'x' start with no implicit rule's character: strings without typing; a
    # too large integer is typed at once (its problem is reported), each time
    assert calls == [big, big] and len(c.syntax_errors) == 2
    a, b = c.root.value[0][1], c.root.value[1][1]
    assert b.tag == "tag:yaml.org,2002:int" and calls == [big, big, "1"]
    assert (a.value, b.value) == (1, 1) and calls == [big, big, "1"]
    items = c.root.value[2][1].value
    assert [n.value for n in items] == [1, 1, "x", "x", True] and calls == [big, big, "1", "yes"]
    assert [n.tag.split(":")[-1] for n in items] == ["int", "int", "str", "str", "bool"]
    with pytest.raises(AttributeError):
        items[0].nothing
