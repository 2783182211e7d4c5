"""The alias-free converter (texts without '*') and the plain-value shortcut of
``Node.py`` give what the general code gives: same node trees, problems and values,
over the corpus, the generated bench files and alias/anchor/tag/merge samples."""

import os
import sys

import pytest

from guildls.model import nodes
from guildls.model.nodes import MAP, SEQ

from .test_incremental import BENCH, CORPUS_TEXTS, _dump

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
]


def _texts():
    yield from (t for _, t in CORPUS_TEXTS)
    yield from SAMPLES
    for g in GENERATORS.values():
        yield g(30)


def _composed(text, general):
    if general:
        real = nodes._PlainConverter
        nodes._PlainConverter = nodes._Converter
        try:
            c = nodes.compose(text)
        finally:
            nodes._PlainConverter = real
    else:
        c = nodes.compose(text)
    return (_dump(c.root), [(e.message, tuple(e.range)) for e in c.syntax_errors],
            [(tuple(a.range), tuple(b.range)) for a, b in c.duplicates], c.partial), c.root


TEXTS = list(_texts())


@pytest.mark.parametrize("text", TEXTS, ids=[f"text{i}" for i in range(len(TEXTS))])
def test_alias_free_converter_and_plain_values_match_the_general_code(text):
    fast, root = _composed(text, general=False)
    slow, _ = _composed(text, general=True)
    assert fast == slow
    if root is not None:
        for n in nodes.walk(root):
            if n.kind in (MAP, SEQ):
                assert n.py() == n.py(set())  # the shortcut vs the general walk
