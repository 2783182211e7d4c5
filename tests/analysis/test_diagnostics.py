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
    # Guild matches operation sources against every run in GUILD_HOME (other projects too)
    assert d.message.startswith("no operation in this guild file matches 'prepare'")
    assert d.severity == "information"
    assert d.range == (3, 17, 3, 24)


def test_requires_operation_typo_is_a_warning_with_did_you_mean():
    diags = D("prepare:\n  main: p\ntrain:\n  main: t\n  requires:\n    - operation: prepar\n")
    (d,) = by_code(diags, "unknown-operation")
    assert d.severity == "warning"
    assert d.message.endswith("(did you mean 'prepare'?)")


def test_suppression_comments():
    text = (
        "train:\n  flags: {lr: 1}\nwf:\n  steps:\n"
        "    - train lrr=1  # guildls: disable=unknown-flag\n"
        "    # guildls: disable=unknown-operation,unknown-flag\n"
        "    # a comment between\n"
        "    - trian foo=1\n"
        "    - trian2\n"
        "    - train foo=1\n"
    )
    got = [(d.range.start_line, d.code) for d in D(text)]
    assert got == [(8, "unknown-operation"), (9, "unknown-flag")]
    assert [d.code for d in D(text + "# guildls: disable-file=unknown-flag,unknown-operation\n")] == []
    assert [d.code for d in D(text + "# guildls: disable-file=all\n")] == []


def test_severity_overrides():
    from guildls.analysis.diagnostics import diagnose
    from guildls.model import load

    text = "train:\n  flags: {lr: 1}\nwf:\n  steps:\n    - train lrr=1\n    - trian\n"
    got = [(d.code, d.severity) for d in diagnose(load(text), {"unknown-flag": "error", "unknown-operation": "off"})]
    assert got == [("unknown-flag", "error")]


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


def test_required_flag_passed_by_prefixed_parent_flag_or_batch_file():
    base = "train:\n  exec: echo ${name}\n  flags:\n    name: {required: yes}\n"
    assert not by_code(D(base + "wf:\n  flags:\n    train:name: x\n  steps: [train]\n"), "missing-required-flag")
    assert not by_code(D(base + "wf:\n  flags:\n    fit:name: x\n  steps:\n    - {run: train, name: fit}\n"),
                       "missing-required-flag")
    assert not by_code(D(base + "wf:\n  steps: ['train @names.csv']\n"), "missing-required-flag")
    (d,) = by_code(D(base + "wf:\n  steps: [train]\n"), "missing-required-flag")
    assert "requires flag 'name'" in d.message


def test_special_names_in_main_and_whole_word_flag_args():
    assert D("t:\n  main: t --data ${project_dir}/d ${flag_args}\n  flags: {lr: 0.1}\n") == []
    (d,) = D('t:\n  exec: bash -c "python t.py ${flag_args}"\n  flags: {lr: 0.1}\n')
    assert d.code == "undefined-reference" and "only as a whole word" in d.message
    (d,) = D("t:\n  main: t\n  env: {PY: '${python_exe}'}\n")
    assert d.message.startswith("command contains invalid reference 'python_exe'")


def test_anonymous_model_ref_in_step_and_label_filters_in_steps():
    (d,) = D("hi: {exec: echo hi}\nwf:\n  steps: [':hi']\n")
    assert d.message.startswith("invalid reference: ':hi'")
    (d,) = D("t: {exec: echo}\nwf:\n  flags: {lr: 0.1}\n  steps:\n    - {run: t, label: 'lr ${lr|%.2f}'}\n")
    assert d.code == "undefined-reference" and "'lr|%.2f'" in d.message
    assert D("t:\n  exec: echo\n  flags: {lr: 0.1}\n  label: 'lr ${lr|%.2f}'\n") == []


def test_deep_workflow_chains_do_not_exhaust_the_stack():
    n = 3000
    text = "".join(f"w{i}:\n  steps: [w{i + 1}]\n" for i in range(n)) + f"w{n}: {{exec: echo}}\n"
    assert D(text) == []
    cyc = D(text.replace(f"w{n}: {{exec: echo}}", f"w{n}:\n  steps: [w0]"))
    assert [d.code for d in cyc] == ["step-cycle"]


def test_only_syntax_errors_while_the_document_does_not_parse():
    diags = D('train:\n  exec: echo "loss: 0.5" x: 1\nwf:\n  steps: [train]\n')
    assert [d.code for d in diags] == ["yaml-syntax"]


def test_env_value_taking_a_non_text_flag():
    (d,) = D("t:\n  exec: echo\n  flags: {gpu: 0}\n  env:\n    CUDA_VISIBLE_DEVICES: ${gpu}\n")
    assert d.code == "invalid-flag-value" and "Guild only accepts text in env" in d.message
    assert D("t:\n  exec: echo\n  flags: {gpu: {type: string, default: 0}}\n  env:\n    X: ${gpu}\n") == []
    assert D("t:\n  exec: echo\n  flags: {gpu: '0'}\n  env:\n    X: 'dev-${gpu}'\n") == []


def test_operation_inherited_by_two_models_is_reported_once():
    text = """
    - config: base
      operations:
        train: {exec: echo}
        wf:
          steps: [train, nope]
    - model: a
      extends: base
    - model: b
      extends: base
      operations:
        wf:
          description: b's own wf
    """
    diags = by_code(D(text), "unknown-operation")
    assert len(diags) == 1 and diags[0].range == (4, 21, 4, 25)
    assert diags[0].message.startswith("operation 'nope' is not defined for model")


def test_requires_operation_specs_matched_through_the_name_index():
    text = textwrap.dedent("""\
        - model: m
          operations:
            prepare-data: {main: p}
            train:
              main: t
              requires:
                - operation: prepare-.*
                - operation: m:prepare-data
                - operation: nothing,prepare-data
                - operation: prep(
                - operation: x:.*
                - operation: trian
                - operation: m:trian
                - operation: [prepare-data]
        - model: other
          operations:
            fit: {main: f}
        """)
    infos = by_code(D(text), "unknown-operation")
    msgs = sorted(d.message for d in infos)
    assert len(msgs) == 3, msgs
    assert any("'trian'" in m and "did you mean 'train'" in m for m in msgs)
    assert any("'m:trian'" in m and "did you mean 'm:train'" in m for m in msgs)
    assert any("'x:.*'" in m for m in msgs)


def test_flag_value_results_are_remembered_apart_for_equal_bounds_of_other_types():
    """check_flag_value remembers its answers by flag name, text and the checked attributes
    with their types: 1, 1.0 and True are equal in Python, not in Guild's messages."""
    from guildls.analysis.semantics import check_flag_value
    from guildls.model.guildfile import Flag

    def msg(attrs):
        return check_flag_value(Flag("x", None, None, None, attrs), 5, "5")

    for _ in range(2):  # the second round answers from the memo
        assert msg({"max": 1}).endswith("(greater than max 1)")
        assert msg({"max": 1.0}).endswith("(greater than max 1.0)")
        assert msg({"max": True}).endswith("(greater than max True)")
        assert msg({"choices": [1, 2]}).endswith("supported values are: 1, 2")
        assert msg({"choices": [1.0, 2]}).endswith("supported values are: 1.0, 2")
        assert msg({"choices": [True, 2]}).endswith("supported values are: yes, 2")
        assert msg({"max": 9}) is None and msg({"description": "no checked attribute"}) is None
