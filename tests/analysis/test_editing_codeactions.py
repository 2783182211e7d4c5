"""Quick fixes as pure functions, on the diagnostics the engine produces."""

from guildls.analysis.codeactions import define_flag_edit, quick_fixes
from guildls.analysis.diagnostics import diagnose
from guildls.model import Range, load


def fixes(text):
    gf = load(text)
    return [(f.title, f.edits, f.diagnostic.code, f.preferred) for f in quick_fixes(gf, diagnose(gf))]


def apply(text, edits):
    lines = text.split("\n")
    for r, new in sorted(edits, key=lambda e: e[0], reverse=True):
        a = sum(len(x) + 1 for x in lines[:r.start_line]) + r.start_col
        b = sum(len(x) + 1 for x in lines[:r.end_line]) + r.end_col
        text = text[:a] + new + text[b:]
        lines = text.split("\n")
    return text


def test_change_to_for_operation_and_flag():
    text = "train:\n  main: t\n  flags:\n    lr: 0.1\nwf:\n  steps:\n    - trian lrr=1\n"
    got = fixes(text)
    assert ("Change to 'train'", [(Range(6, 6, 6, 11), "train")], "unknown-operation", True) in got
    text2 = "train:\n  main: t\n  flags:\n    lr: 0.1\nwf:\n  steps:\n    - train lrr=1\n"
    assert fixes(text2) == [("Change to 'lr'", [(Range(6, 12, 6, 15), "lr")], "unknown-flag", True),
                            ("Define flag 'lrr' in 'train'", [(Range(4, 0, 4, 0), "    lrr: 1\n")], "unknown-flag",
                             False)]  # the value the step gives


def test_change_to_for_an_attribute():
    got = fixes("train:\n  main: t\n  descripton: x\n")
    assert ("Change to 'description'", [(Range(2, 2, 2, 12), "description")], "unknown-attribute", True) in got


def test_undefined_reference_change_to_and_define_flag():
    text = "wf:\n  flags:\n    rate: 1\n  steps:\n    - run: train lr=${rat}\ntrain:\n  flags: {lr: 1}\n"
    got = fixes(text)
    assert got == [
        ("Change to 'rate'", [(Range(4, 22, 4, 25), "rate")], "undefined-reference", True),
        ("Define flag 'rat'", [(Range(3, 0, 3, 0), "    rat: 1\n")], "undefined-reference", False),  # train's lr default
    ]
    assert "    rate: 1\n    rat: 1\n  steps:" in apply(text, got[1][1])


def test_define_flag_creates_flags():
    text = "wf:\n  steps:\n    - train lr=${y}\ntrain:\n  flags: {lr: 1}"
    got = fixes(text)
    assert got == [("Define flag 'y'", [(Range(3, 0, 3, 0), "  flags:\n    y: 1\n")], "undefined-reference", True)]
    assert apply(text, got[0][1]).startswith("wf:\n  steps:\n    - train lr=${y}\n  flags:\n    y: 1\ntrain:")
    # at the end of the document, without a final newline
    text = "train:\n  flags: {lr: 1}\nwf:\n  steps:\n    - train lr=${y}"
    (title, edits, _c, _p), = fixes(text)
    assert edits == [(Range(4, 19, 4, 19), "\n  flags:\n    y: 1")]
    gf = load(apply(text, edits))
    assert list(gf.find_operation("wf").flags) == ["y"]


def test_define_flag_in_flow_and_empty_flags():
    gf = load("wf:\n  flags: {a: 1}\n  exec: echo ${b}\n")
    assert define_flag_edit(gf, gf.find_operation("wf"), "b") == (Range(1, 14, 1, 14), ", b: ''")  # never null
    gf = load("wf:\n  flags:\n  exec: echo ${b}\n")
    assert define_flag_edit(gf, gf.find_operation("wf"), "b") == (Range(2, 0, 2, 0), "    b: ''\n")


def test_other_diagnostics_have_no_fixes():
    assert fixes("train:\n  main: t\n  flags: [1]\n") == []


def test_no_change_to_a_key_the_mapping_already_has():
    text = "train:\n  description: Train\n  descrpition: typo\n  main: t\n"
    titles = [f[0] for f in fixes(text)]
    assert "Change to 'description'" not in titles


def test_define_flag_keeps_crlf_and_uses_text_for_env():
    text = "train:\r\n  exec: echo ${lr}\r\n"
    (fix,) = [f for f in fixes(text) if f[0] == "Define flag 'lr'"]
    new = apply(text, fix[1])
    assert "\n" not in new.replace("\r\n", "") and "    lr: ''\r\n" in new
    text = "train:\n  exec: echo\n  env:\n    SEED: ${seed}\n"
    (fix,) = [f for f in fixes(text) if f[0] == "Define flag 'seed'"]
    new = apply(text, fix[1])
    assert "seed: ''" in new
    assert [d.code for d in diagnose(load(new))] == []
