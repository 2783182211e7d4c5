"""publishDiagnostics params are built as JSON directly (server.diagnostic_json): the
same JSON pygls's converter makes of the protocol objects (server.to_lsp_diagnostic),
for every problem of the corpus, of the hostile shapes and of made-up edge cases, in
each position encoding (the protocol path itself is in test_diagnostics_lsp.py)."""

import json

import pytest
from pygls.protocol import default_converter

from guildls.analysis.diagnostics import diagnose
from guildls.lsp.positions import Columns
from guildls.lsp.server import diagnostic_json, to_lsp_diagnostic
from guildls.model import Problem, Range, load

from ..fuzz import shapes
from ..model.test_incremental import CORPUS_TEXTS

CONV = default_converter()
NON_ASCII = "op:\n  description: \u00e9t\u00e9 \U0001F600 caf\u00e9\n  main: m \u2028x\n  flgas: {\u00fc: 1}\n  xx\u00e9: 2\n"


def _json(obj):
    return json.loads(json.dumps(obj))


def _texts():
    yield from (t for _, t in CORPUS_TEXTS)
    yield NON_ASCII
    for name in ("many-typos", "huge-int", "line-separators", "200 ops+3000 typos"):
        if name in shapes.ALL:
            yield shapes.ALL[name]()


def _made_up(lines):
    r = Range(1, 2, 1, 9)
    return [Problem("ignored-attribute", "hint", "m", r), Problem("old-format", "information", "m", r),
            Problem("x", "warning", "m", r, {"suggestions": ["a", "b"], "t": (1, 2)}),
            Problem("x", "error", "m", r, ["a"]), Problem("x", "error", "m", r, "text data"),
            Problem(None, "bogus", "m", Range(0, 0, len(lines) + 3, 99))]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-32"])
def test_diagnostic_json_is_what_the_converter_sends(encoding):
    n = 0
    for text in _texts():
        gf = load(text)
        cols = Columns(gf.lines, encoding)
        for p in diagnose(gf) + _made_up(gf.lines):
            assert _json(diagnostic_json(p, cols)) == _json(CONV.unstructure(to_lsp_diagnostic(p, cols))), p
            n += 1
    assert n > 1000


def test_diagnostic_texts_reused_across_versions_are_what_a_fresh_conversion_gives():
    # server.diagnostic_texts keeps each problem's JSON text for the next version: taken
    # again only for the same Problem object on lines of the same text, in the same encoding
    import random

    from guildls.lsp.server import diagnostic_texts
    from guildls.model.chunks import ChunkCache

    rng = random.Random(2)
    base = ("op%d:\n  main: m\n  flgas: {\u00e9: 1}\n  description: caf\u00e9 \U0001F600\n  steps:\n"
            "    - nope%d x=1\n")
    text = "".join(base % (i, i) for i in range(150))
    cache = ChunkCache()
    last = None
    reused = 0
    for step in range(30):
        lines = text.split("\n")
        i = rng.randrange(len(lines))
        lines[i] = rng.choice(["  flgas: {\u00fc\u00fc: 1}", "  flgas: {u: 1}", "  main: \U0001F600", lines[i] + " ",
                               "  desc: x", lines[i]])
        text = "\n".join(lines)
        gf = load(text, None, cache)
        problems = diagnose(gf)
        encoding = rng.choice(["utf-16", "utf-16", "utf-8", "utf-32"])
        cols = Columns(gf.lines, encoding)
        prev = last or {}
        texts, last = diagnostic_texts(problems, cols, last)
        reused += sum(1 for p, t in zip(problems, texts) if id(p) in prev and prev[id(p)][3] is t)
        assert [json.loads(t) for t in texts] == [_json(diagnostic_json(p, cols)) for p in problems]
    assert problems and reused > 1000
