"""Offsets in a scalar's value mapped back to source columns (model/textpos.py)."""

from guildls.model.lines import split_lines
from guildls.model.nodes import SCALAR, Range, compose, walk
from guildls.model.textpos import _raw_map, sub_range

TEXT = """\
op:
  main: train --lr 0.1
  steps:
    - op lr=${lr} epochs=3
    - run: 'op x=''q'' y=1'
    - run: "op a=\\"b\\" c=\\u00e9"
    - op  spaced   words  # a comment
    - plain
      folded
  flags: {a: 1, b: two words, c: ''}
"""


def _by_columns(node, lines, start, end):
    """What sub_range gave before its plain-scalar shortcut: the column list of _raw_map."""
    cols = _raw_map(node, lines)
    if end >= len(cols) + 1:
        return node.range
    start, end = min(start, len(cols) - 1), min(end, len(cols) - 1)
    return Range(node.sl, cols[start], node.sl, cols[end])


def test_plain_one_line_scalars_map_as_their_column_list_says():
    lines = split_lines(TEXT)
    root = compose(TEXT).root
    plain = [n for n in walk(root) if n.kind == SCALAR and n.sl == n.el and n.style in (None, "")
             and isinstance(n.value, str)]
    assert len(plain) >= 10
    for node in plain:
        width = len(node.value)
        for start in range(0, width + 3):
            for end in range(start, width + 4):
                assert sub_range(node, lines, start, end) == _by_columns(node, lines, start, end), (node, start, end)
    word = next(n for n in plain if n.value == "op lr=${lr} epochs=3")
    assert sub_range(word, lines, 3, 5) == Range(3, 9, 3, 11)  # "lr"
    assert sub_range(word, lines, 0, 99) == word.range  # past the end: the whole node


def test_quoted_and_folded_scalars_are_unchanged():
    lines = split_lines(TEXT)
    root = compose(TEXT).root
    single = next(n for n in walk(root) if n.kind == SCALAR and n.value == "op x='q' y=1")
    assert sub_range(single, lines, 3, 8) == Range(4, 15, 4, 22)  # x='q' (the doubled quotes count as one)
    double = next(n for n in walk(root) if n.kind == SCALAR and n.style == '"' and n.value)
    assert sub_range(double, lines, 3, 8) == Range(5, 15, 5, 22)  # a="b" (each escape is one)
    folded = next(n for n in walk(root) if n.kind == SCALAR and n.value == "plain folded")
    assert sub_range(folded, lines, 6, 12) == Range(8, 6, 8, 12)
