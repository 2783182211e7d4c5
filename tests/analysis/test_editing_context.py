"""Cursor context from raw lines (works on text that is not valid YAML)."""

import pytest

from guildls.analysis.context import ITEM, block_end, block_keys, classify, context_at, parse_line
from guildls.model import load

TEXT = """\
- model: m
  operations:
    wf:
      steps:
      - run: train
        flags:
          lr: 1
      - tra
    train:
      flags:
        lr:
          default: [
"""
LINES = TEXT.split("\n")


def test_parse_line():
    els, content = parse_line("  - - run: 'a b' # c")
    assert [(e.kind, e.col, e.key, e.value) for e in els] == [
        ("item", 2, None, ""), ("item", 4, None, ""), ("key", 6, "run", "'a b' # c")]
    assert content == 6
    els, _ = parse_line('    "m:op": x')
    assert (els[0].key, els[0].key_end, els[0].value_col) == ("m:op", 10, 12)
    assert parse_line("  - train lr=1")[0][-1].kind == "item"


@pytest.mark.parametrize("line,col,keys,position,key,typed", [
    (4, 18, [ITEM, "operations", "wf", "steps", ITEM], "value", "run", "train"),
    (6, 15, [ITEM, "operations", "wf", "steps", ITEM, "flags"], "value", "lr", "1"),
    (6, 12, [ITEM, "operations", "wf", "steps", ITEM, "flags"], "key", None, "lr"),
    (7, 11, [ITEM, "operations", "wf", "steps", ITEM], "key", None, "tra"),  # compact sequence
    (11, 20, [ITEM, "operations", "train", "flags", "lr"], "value", "default", "["),
    (12, 0, [], "key", None, ""),
])
def test_context_at(line, col, keys, position, key, typed):
    ctx = context_at(LINES, line, col)
    assert (ctx.keys, ctx.position, ctx.key, ctx.typed) == (keys, position, key, typed)


def test_classify_on_invalid_yaml():
    gf = load(TEXT)
    assert gf.partial
    loc = classify(gf, context_at(LINES, 7, 11))
    assert (loc.kind, loc.section, loc.op_name, loc.model.name) == ("section", "step", "wf", "m")
    loc = classify(gf, context_at(LINES, 6, 11))
    assert loc.kind == "step-flags"
    loc = classify(gf, context_at(LINES, 11, 20))
    assert (loc.kind, loc.section, loc.flag_name) == ("section", "flag", "lr")


def test_block_keys_and_end():
    assert list(block_keys(LINES, 4, 6, True)) == ["run", "flags"]
    assert list(block_keys(LINES, 2, 4, False)) == ["steps"]
    assert block_end(LINES, 2, 4) == 7
    assert block_end(LINES, 8, 4) == 11
