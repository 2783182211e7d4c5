"""Definition, references, rename and document symbols as pure functions."""

import pytest

from guildls.analysis import navigation as nav
from guildls.model import Range, load

TEXT = """\
prep:
  flags:
    n: 1
train:
  flags:
    lr: 0.1
    opt: adam
  requires:
    - operation: prep
wf:
  flags:
    x: 2
  steps:
    - prep n=${x}
    - run: train lr=1
      flags:
        opt: sgd
    - train
"""
GF = load(TEXT)


def R(sl, sc, el, ec):
    return Range(sl, sc, el, ec)


def test_symbol_at():
    s = nav.symbol_at(GF, 13, 7)
    assert (s.kind, s.role, s.name, s.operation.name) == ("operation", "step", "prep", "prep")
    s = nav.symbol_at(GF, 13, 11)
    assert (s.kind, s.role, s.flag.name, s.operation.name) == ("flag", "assign", "n", "prep")
    s = nav.symbol_at(GF, 13, 14)
    assert (s.kind, s.name, s.flag.name, s.scope.name) == ("ref", "x", "x", "wf")
    assert nav.symbol_at(GF, 11, 7) is None  # a value


@pytest.mark.parametrize("pos,target", [
    ((13, 7), R(0, 0, 0, 4)),  # step op -> op key
    ((8, 19), R(0, 0, 0, 4)),  # requires operation: -> op key
    ((14, 18), R(5, 4, 5, 6)),  # lr=1 -> train's lr
    ((16, 9), R(6, 4, 6, 7)),  # step flags mapping -> train's opt
    ((13, 14), R(11, 4, 11, 5)),  # ${x} -> wf's x
    ((3, 2), R(3, 0, 3, 5)),  # a definition is its own definition
])
def test_definition(pos, target):
    assert nav.definition(GF, *pos) == [target]


def test_references_of_an_operation():
    assert nav.references(GF, 3, 1) == [R(3, 0, 3, 5), R(14, 11, 14, 16), R(17, 6, 17, 11)]
    assert nav.references(GF, 13, 7, include_declaration=False) == [R(8, 17, 8, 21), R(13, 6, 13, 10)]


def test_references_of_a_flag():
    assert nav.references(GF, 6, 5) == [R(6, 4, 6, 7), R(16, 8, 16, 11)]
    assert nav.references(GF, 11, 4) == [R(11, 4, 11, 5), R(13, 15, 13, 16)]


def test_rename_operation_updates_steps_and_requires():
    edits = nav.rename(GF, 13, 7, "prepare")
    assert edits == [(R(0, 0, 0, 4), "prepare"), (R(8, 17, 8, 21), "prepare"), (R(13, 6, 13, 10), "prepare")]


def test_rename_flag_updates_assignments_and_refs():
    assert nav.rename(GF, 5, 4, "rate") == [(R(5, 4, 5, 6), "rate"), (R(14, 17, 14, 19), "rate")]
    assert nav.rename(GF, 13, 14, "y") == [(R(11, 4, 11, 5), "y"), (R(13, 15, 13, 16), "y")]


def test_rename_refuses_existing_names():
    with pytest.raises(nav.RenameError, match="an operation named 'train' already exists in this file"):
        nav.rename(GF, 0, 1, "train")
    with pytest.raises(nav.RenameError, match="a flag named 'opt' already exists in operation 'train'"):
        nav.rename(GF, 14, 18, "opt")
    with pytest.raises(nav.RenameError, match="invalid operation name 'a b'"):
        nav.rename(GF, 0, 1, "a b")


def test_prepare_rename():
    assert nav.prepare_rename(GF, 13, 14) == (R(13, 15, 13, 16), "x")
    assert nav.prepare_rename(GF, 14, 12) == (R(14, 11, 14, 16), "train")
    assert nav.prepare_rename(GF, 11, 7) is None


FULL = """\
- model: a
  description: Model A
  operations:
    prep: prep
    wf:
      steps: [prep, b:train]
- model: b
  operations:
    train:
      flags:
        lr: 0.1
"""


def test_model_qualified_references_rename_only_the_operation_part():
    gf = load(FULL)
    assert nav.definition(gf, 5, 22) == [R(8, 4, 8, 9)]
    assert nav.rename(gf, 8, 5, "fit") == [(R(5, 22, 5, 27), "fit"), (R(8, 4, 8, 9), "fit")]


def test_document_symbols_operations_format():
    syms = nav.document_symbols(GF)
    assert [(s.name, s.kind.name, s.detail, [c.name for c in s.children]) for s in syms] == [
        ("prep", "Function", None, ["n"]),
        ("train", "Function", None, ["lr", "opt"]),
        ("wf", "Module", "workflow", ["x"]),
    ]
    wf = syms[2]
    assert (wf.selection_range.start.line, wf.selection_range.end.character) == (9, 2)
    assert (wf.range.start.line, wf.range.end.line) == (9, 18)


def test_document_symbols_full_format():
    syms = nav.document_symbols(load(FULL))
    assert [(s.name, s.kind.name, s.detail, [(c.name, c.kind.name) for c in s.children]) for s in syms] == [
        ("a", "Class", "model: Model A", [("prep", "Function"), ("wf", "Module")]),
        ("b", "Class", "model", [("train", "Function")]),
    ]
    assert [c.name for c in syms[1].children[0].children] == ["lr"]


def test_rename_updates_flags_a_workflow_passes_to_its_steps():
    text = "train:\n  flags:\n    lr: 1\nwf:\n  flags:\n    train:lr: 0.5\n    'fit:lr': 2\n  steps:\n    - train\n    - name: fit\n      run: train\n"
    gf = load(text)
    assert nav.rename(gf, 2, 4, "rate") == [
        (R(2, 4, 2, 6), "rate"), (R(5, 10, 5, 12), "rate"), (R(6, 9, 6, 11), "rate")]
    assert nav.rename(gf, 0, 1, "learn") == [
        (R(0, 0, 0, 5), "learn"), (R(5, 4, 5, 9), "learn"), (R(8, 6, 8, 11), "learn"), (R(10, 11, 10, 16), "learn")]


def test_definition_of_extends_parents_and_named_resources():
    text = """\
- config: base
  resources:
    data:
      - file: data.csv
- model: m
  extends: base
  operations:
    train:
      requires:
        - data
        - resource: other:more
- model: other
  extends:
    - base
  resources:
    more: [x.csv]
"""
    gf = load(text)
    assert nav.definition(gf, 5, 12) == [R(0, 10, 0, 14)]
    assert nav.definition(gf, 13, 7) == [R(0, 10, 0, 14)]
    assert nav.definition(gf, 9, 11) == [R(2, 4, 2, 8)]
    assert nav.definition(gf, 10, 28) == [R(15, 4, 15, 8)]
    assert nav.definition(gf, 5, 4) == []


def test_rename_operation_updates_include_references():
    from guildls.analysis import navigation
    from guildls.model import load

    text = ("- model: m\n"
            "  operations:\n"
            "    train:\n"
            "      main: t\n"
            "      flags: {lr: 0.1}\n"
            "    tune:\n"
            "      main: t\n"
            "      flags:\n"
            "        $include: m:train#lr\n")
    gf = load(text)
    edits = navigation.rename(gf, 2, 5, "fit")
    assert sorted((r.start_line, r.start_col, r.end_line, r.end_col, t) for r, t in edits) == [
        (2, 4, 2, 9, "fit"), (8, 20, 8, 25, "fit")]


def test_rename_refuses_what_it_cannot_update_exactly():
    import pytest

    from guildls.analysis import navigation
    from guildls.model import load

    # a flag inherited through extends and used in another model's step
    ext = ("- config: base\n  operations:\n    train:\n      exec: echo\n      flags: {epochs: 1}\n"
           "- model: cnn\n  extends: base\n  operations:\n    all:\n      steps: [train epochs=3]\n"
           "- model: rnn\n  extends: base\n  operations:\n    train: {flags: {layers: 2}}\n"
           "    all:\n      steps: [train epochs=5]\n")
    with pytest.raises(navigation.RenameError, match="cannot rename 'epochs' to 'n' safely"):
        navigation.rename(load(ext), 4, 15, "n")
    # a flag shared through a YAML alias
    alias = "train: &t\n  exec: echo\n  flags: {lr: 1}\ntrain2: *t\nwf:\n  steps: [train2 lr=3, train lr=2]\n"
    with pytest.raises(navigation.RenameError, match="safely"):
        navigation.rename(load(alias), 2, 11, "rate")


def test_rename_in_values_with_params_uses_the_written_text():
    from guildls.analysis import navigation
    from guildls.analysis.navigation import apply_edits
    from guildls.model import load

    for main in ("main: train --model {{name}} --lr ${lr}", "main:\n        train\n          --model {{name}}\n"
                 "          --lr ${lr}"):
        text = ("- model: m\n  params: {name: resnet}\n  operations:\n    train:\n      " + main +
                "\n      flags:\n        lr: 0.1\n")
        gf = load(text)
        line = gf.lines.index("        lr: 0.1")
        new = apply_edits(text, navigation.rename(gf, line, 8, "zz"))
        assert "--lr ${zz}" in new and "--model {{name}}" in new and "        zz: 0.1" in new


def test_outline_children_lie_within_their_parent():
    from guildls.analysis import navigation
    from guildls.model import load

    text = ("- config: base\n  operations:\n    train:\n      exec: echo\n      flags: {epochs: 1}\n"
            "- model: rnn\n  extends: base\n  operations:\n    train:\n      flags: {layers: 2}\n")

    def check(sym):
        for c in sym.children or ():
            assert (c.range.start.line, c.range.start.character) >= (sym.range.start.line, sym.range.start.character)
            assert (c.range.end.line, c.range.end.character) <= (sym.range.end.line, sym.range.end.character)
            check(c)

    syms = navigation.document_symbols(load(text))
    for s in syms:
        check(s)
    rnn = next(s for s in syms if s.name == "rnn")
    train = next(c for c in rnn.children if c.name == "train")
    assert [c.name for c in train.children] == ["layers"]


def test_flow_style_operations_on_one_line_and_yaml_keyword_names():
    import pytest

    from guildls.analysis import navigation
    from guildls.analysis.hover import hover
    from guildls.model import load

    text = "{a: {exec: echo}, b: {exec: echo}, c: {exec: echo}, d: {exec: echo}, wf: {steps: [a, b]}}\n"
    gf = load(text)
    for name in "abcd":
        col = 1 if name == "a" else text.index(f", {name}:") + 2
        assert navigation.prepare_rename(gf, 0, col) is not None, name
        assert hover(gf, 0, col) is not None, name
    gf = load("train:\n  exec: echo\n  flags: {lr: 0.1}\n")
    for bad in ("true", "null", "1", "yes"):
        with pytest.raises(navigation.RenameError, match="not a plain name in YAML"):
            navigation.rename(gf, 2, 11, bad)
