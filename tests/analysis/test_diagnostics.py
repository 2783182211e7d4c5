"""Diagnostics: codes, severities, Guild wording and exact ranges."""

import textwrap

from guildls.analysis.diagnostics import diagnose
from guildls.model import load


def D(text, path=None):
    return diagnose(load(textwrap.dedent(text).lstrip("\n"), path))


def by_code(diags, code):
    return [d for d in diags if d.code == code]


SEED = """
prepare-data: {main: prepare, flags: {rows: 5}}
train:
  main: train
  flags:
    epochs: {default: 2, type: int, min: 1, max: 100}
    lr: 0.1
    opt: {default: sgd, choices: [sgd, adam]}
  requires: [{operation: prepare-data}]
test: {main: test, requires: [{operation: train}]}
end-to-end:
  flags: {lr: 0.2}
  steps:
    - prepare-data
    - train lr=${lr}
    - test
"""


def test_seed_is_clean():
    assert D(SEED) == []


def test_unknown_operation_in_step_with_did_you_mean_and_token_range():
    diags = D(SEED + "broken:\n  steps:\n    - trian lr=1\n")
    (d,) = by_code(diags, "unknown-operation")
    assert d.message.startswith("operation 'trian' is not defined for this project")
    assert "did you mean 'train'" in d.message
    assert d.range == (17, 6, 17, 11)
    assert d.data["suggestions"] == ["train"]
    assert d.severity == "warning"


def test_unknown_flag_and_bad_values():
    diags = D(SEED + "b:\n  steps:\n    - train lrr=1 epochs=x opt=rmsprop\n    - train epochs=0\n")
    (uf,) = by_code(diags, "unknown-flag")
    assert uf.message.startswith("unsupported flag 'lrr'") and "did you mean 'lr'" in uf.message
    assert uf.range == (17, 12, 17, 15)
    bad = by_code(diags, "invalid-flag-value")
    msgs = sorted(d.message for d in bad)
    assert "invalid value x for epochs: invalid value for type 'int'" in msgs
    assert "Unsupported value for 'opt' - supported values are: sgd, adam" in msgs
    assert "invalid value 0 for epochs: out of range (less than min 1)" in msgs


def test_undefined_reference_points_at_the_ref():
    diags = D(SEED + "w2:\n  flags: {x: 1}\n  steps:\n    - train lr=${y}\n")
    (d,) = by_code(diags, "undefined-reference")
    assert "undefined reference 'y'" in d.message
    assert d.range == (18, 15, 18, 19)


def test_exec_reference_and_special_names():
    diags = D("a:\n  exec: ${python_exe} run.py ${flag_args} ${nope}\n  flags: {x: 1}\n")
    (d,) = by_code(diags, "undefined-reference")
    assert d.message.startswith("command contains invalid reference 'nope'")


def test_step_cycle():
    diags = D("a:\n  steps: [b]\nb:\n  steps: [c]\nc:\n  steps: [a]\n")
    cyc = by_code(diags, "step-cycle")
    assert cyc and "a -> b -> c -> a" in cyc[0].message


def test_load_errors_use_guild_wording_and_are_errors():
    diags = D("op:\n  main: x\n  flags: [a, b]\n  steps: 123\n")
    msgs = {d.message for d in diags if d.severity == "error"}
    assert "invalid flags value ['a', 'b']: expected a mapping" in msgs
    assert "invalid steps data 123: expected a list" in msgs


def test_unknown_attribute_is_a_warning_with_suggestion():
    diags = D("op:\n  main: x\n  descriptoin: hi\n")
    (d,) = by_code(diags, "unknown-attribute")
    assert d.severity == "warning"
    assert "did you mean 'description'" in d.message
    assert d.range == (2, 2, 2, 13)


def test_yaml_syntax_error_and_recovery():
    diags = D("train:\n  main: train\n  flags: {lr: 0.1\nwf:\n  steps: [nope]\n")
    assert by_code(diags, "yaml-syntax")


def test_duplicate_key_warning():
    diags = D("a: {main: x}\na: {main: y}\n")
    (d,) = by_code(diags, "duplicate-key")
    assert d.severity == "warning" and d.range.start_line == 1


def test_requires_operation_to_nothing():
    diags = D("train:\n  main: t\n  requires:\n    - operation: prepare\n")
    (d,) = by_code(diags, "unknown-operation")
    assert "no operation matches 'prepare'" in d.message
    assert d.range == (3, 17, 3, 24)


def test_open_flag_sets_are_not_reported():
    diags = D("train:\n  main: train\n  flags-import: all\nwf:\n  steps: [train anything=1]\n")
    assert not by_code(diags, "unknown-flag")


def test_model_qualified_steps():
    text = """
    - model: data
      operations: {prepare: prep}
    - model: pipe
      operations:
        all:
          steps: [data:prepare, data:nope, zz:prepare, prepare]
    """
    diags = D(text)
    msgs = sorted(d.message for d in by_code(diags, "unknown-operation"))
    assert msgs[0].startswith("cannot find operation zz:prepare")
    assert any(m.startswith("operation 'nope' is not defined for model 'data'") for m in msgs)
    assert any(m.startswith("operation 'prepare' is not defined for model 'pipe'") for m in msgs)
