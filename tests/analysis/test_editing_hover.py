"""Hover as a pure function."""

from guildls.analysis.hover import hover
from guildls.model import Range, load

TEXT = """\
prep:
  description: Get the data ready
  flags:
    n: 1
train:
  description: Train a model
  flags:
    lr:
      default: 0.1
      description: Learning rate
      min: 0
      max: 1
    opt:
      default: adam
      choices: [sgd, adam]
wf:
  flags:
    x: 2
  steps:
    - prep n=${x}
    - train opt=sgd
outer:
  steps: [wf]
sh:
  exec: echo ${nope} ${flag_args}
"""
GF = load(TEXT)


def test_hover_on_a_step_operation():
    md, rng = hover(GF, 20, 8)
    assert rng == Range(20, 6, 20, 11)
    assert md == (
        "**train** · operation\n\nTrain a model\n\n"
        "| Flag | Type | Default | Choices | Description |\n|---|---|---|---|---|\n"
        "| `lr` | float | `0.1` |  | Learning rate |\n"
        "| `opt` | string | `adam` | `sgd`, `adam` |  |")


def test_hover_on_a_workflow_lists_its_steps():
    md, _ = hover(GF, 22, 10)
    assert md == (
        "**wf** · workflow\n\n"
        "| Flag | Type | Default | Choices | Description |\n|---|---|---|---|---|\n"
        "| `x` | int | `2` |  |  |\n\n"
        "Steps (2):\n1. `prep n=${x}`\n2. `train opt=sgd`")


def test_hover_on_a_flag_assignment_and_definition():
    md, rng = hover(GF, 20, 12)
    assert rng == Range(20, 12, 20, 15)
    assert md == ("**opt** · flag of operation `train`\n\n"
                  "- type: `string`\n- default: `adam`\n- choices: `sgd`, `adam`\n\nDefined on line 13.")
    md, rng = hover(GF, 7, 5)
    assert rng == Range(7, 4, 7, 6)
    assert md == ("**lr** · flag of operation `train`\n\nLearning rate\n\n"
                  "- type: `float`\n- default: `0.1`\n- range: 0 … 1\n\nDefined on line 8.")


def test_hover_on_a_reference():
    md, rng = hover(GF, 19, 15)
    assert rng == Range(19, 13, 19, 17)
    assert md == "`${x}` → flag **x** of workflow `wf`, defined on line 18; default `2`"
    md, _ = hover(GF, 24, 14)
    assert md == "`${nope}` is not defined: operation `sh` has no flag `nope`."
    md, _ = hover(GF, 24, 24)
    assert md == "`${flag_args}` · Guild value: All flags as command-line arguments (`--name value`)."


def test_hover_on_attribute_keys_uses_the_schema():
    md, rng = hover(GF, 1, 4)
    assert rng == Range(1, 2, 1, 13)
    assert md.startswith("**description**")
    md, rng = hover(GF, 10, 7)
    assert rng == Range(10, 6, 10, 9)
    assert "min" in md.splitlines()[0]


def test_no_hover_on_values_and_unknown_places():
    assert hover(GF, 1, 20) is None
    assert hover(GF, 99, 0) is None


def test_hover_on_an_extends_parent():
    from guildls.analysis.hover import hover
    from guildls.model import load

    text = ("- config: base\n  description: Shared training ops\n  operations:\n    train: {exec: echo}\n"
            "- model: m\n  extends: base\n")
    md, rng = hover(load(text), 5, 12)
    assert "**base** · config" in md and "Shared training ops" in md and "`train`" in md
    assert (rng.start_line, rng.start_col, rng.end_col) == (5, 11, 15)
