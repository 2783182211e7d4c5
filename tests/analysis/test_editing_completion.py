"""Completion as a pure function of the model and a position."""

from guildls.analysis.completion import complete
from guildls.model import load

OPS = """\
prep:
  description: Prepare the data
  flags:
    n: 1
train:
  description: |
    Train a model
    on the data
  flags:
    lr:
      default: 0.1
      description: Learning rate
      type: float
    opt:
      default: adam
      choices: [sgd, adam]
    fast: no
wf:
  description: The whole thing
  flags:
    x: 1
  steps:
    - prep n=2
    - run: train lr=${x}
      flags:
        opt: sgd
        
"""


def items(text, line, col=None):
    gf = load(text)
    lines = text.split("\n")
    if col is None:
        col = len(lines[line])
    return complete(gf, line, col).items


def labels(text, line, col=None):
    return [i.label for i in items(text, line, col)]


def edit(item):
    r = item.text_edit.range
    return (r.start.line, r.start.character, r.end.line, r.end.character, item.text_edit.new_text)


def test_step_target_names_exclude_the_workflow_itself():
    text = OPS + "    - tra"
    got = items(text, 27)
    names = [i.label for i in got if i.kind.name in ("Function", "Module")]
    assert names == ["prep", "train"]
    train = got[1]
    assert train.detail == "Train a model"
    assert edit(train) == (27, 6, 27, 9, "train")
    # step keys come after the operations
    keys = [i.label for i in got if i.kind.name == "Property"]
    assert keys[:3] == ["run", "name", "flags"]


def test_workflows_are_marked():
    text = "a:\n  main: a\nwf1:\n  steps: [a]\nwf2:\n  steps:\n    - "
    got = items(text, 6)
    ops = [(i.label, i.kind.name, i.detail) for i in got if i.kind.name in ("Function", "Module")]
    assert ops == [("a", "Function", "operation"), ("wf1", "Module", "workflow")]
    assert got[1].label_details.description == "workflow"


def test_flag_names_after_the_operation():
    text = OPS + "    - train lr=1 "
    got = items(text, 27)
    assert [i.label for i in got] == ["opt", "fast"]
    assert edit(got[0]) == (27, 17, 27, 17, "opt=")
    assert got[0].detail == "string, default adam"
    assert got[1].detail == "boolean, default False".replace("False", "false")


def test_flag_names_with_type_default_and_description():
    text = OPS + "    - train "
    got = items(text, 27)
    lr = got[0]
    assert (lr.label, lr.detail, lr.documentation.value) == ("lr", "float, default 0.1", "Learning rate")
    assert lr.command.command == "editor.action.triggerSuggest"


def test_flag_values_default_first_then_choices_then_refs():
    text = OPS + "    - train lr="
    got = items(text, 27)
    assert [i.label for i in got] == ["0.1", "${x}"]  # an int flag fits a float


def test_choice_values_offer_only_choices_and_refs_of_their_type():
    text = OPS.replace("    x: 1\n", "    x: 1\n    o: sgd\n") + "    - train opt="
    got = items(text, 28)
    assert [i.label for i in got] == ["adam", "sgd", "${o}"]  # not true/false, not ${x} (int)
    assert got[0].detail == "default"
    assert edit(got[0]) == (28, 16, 28, 16, "adam")


def test_boolean_values():
    text = OPS + "    - train fast=t"
    got = items(text, 27)
    assert [i.label for i in got] == ["false", "true", "${x}"]
    assert edit(got[1]) == (27, 17, 27, 18, "true")


def test_step_flags_mapping_names_not_yet_assigned():
    got = items(OPS, 26)
    assert [(i.label, edit(i)) for i in got] == [
        ("lr", (26, 8, 26, 8, "lr: ")), ("fast", (26, 8, 26, 8, "fast: "))]


def test_step_flags_mapping_values():
    text = OPS.replace("        opt: sgd", "        opt: ")
    got = items(text, 25)
    assert [i.label for i in got] == ["adam", "sgd"]  # ${x} is an int, opt's choices are strings


def test_run_value_is_a_step_string():
    text = OPS.replace("    - run: train lr=${x}", "    - run: pr")
    assert labels(text, 23) == ["prep", "train"]


def test_reference_completion_after_dollar_brace():
    text = OPS.replace("lr=${x}", "lr=${")
    got = items(text, 23, len("    - run: train lr=${"))
    assert [(i.label, edit(i)) for i in got] == [("x", (23, 22, 23, 22, "x}"))]


def test_reference_completion_in_exec_offers_guild_names():
    text = "train:\n  flags:\n    lr: 1\n  exec: python ${"
    got = labels(text, 3)
    assert got == ["lr", "flag_args", "main_args", "python_exe", "guild_python_exe", "project_dir"]


def test_flow_steps():
    text = "train:\n  flags: {lr: 0.1}\nwf:\n  steps: [train lr=0.2, tr"
    assert [edit(i) for i in items(text, 3)] == [(3, 24, 3, 26, "train")]


def test_not_valid_yaml_yet():
    text = 'train:\n  flags:\n    lr: 0.1\nwf:\n  description: "unclosed\n  steps:\n    - train '
    assert labels(text, 6) == ["lr"]
    text = "train:\n  flags:\n    lr: 0.1\nwf:\n  steps:\n    - train lr=\n  bad: [\n"
    assert labels(text, 5) == ["0.1"]


def test_empty_flags_mapping_of_a_step():
    text = "train:\n  flags:\n    lr: 0.1\n    bs: 2\nwf:\n  steps:\n    - run: train\n      flags:\n        "
    assert labels(text, 8) == ["lr", "bs"]


FULL = """\
- model: a
  operations:
    prep: prep
    wf:
      steps:
        - 
- model: b
  operations:
    train:
      flags:
        lr: 0.1
"""


def test_full_format_offers_model_qualified_names():
    got = labels(FULL, 5)
    ops = [label for label in got if label in ("prep", "wf", "a:prep", "a:wf", "b:train")]
    assert ops == ["prep", "a:prep", "b:train"]


def test_model_qualified_step_flags():
    text = FULL.replace("        - \n", "        - b:train \n")
    assert labels(text, 5, len("        - b:train ")) == ["lr"]


def test_operation_attribute_keys_exclude_present_ones():
    text = "train:\n  main: train\n  \n  flags:\n    lr: 1\n"
    got = labels(text, 2)
    assert "main" not in got and "flags" not in got
    assert got[:3] == ["description", "default", "exec"]
    assert edit(items(text, 2)[0]) == (2, 2, 2, 2, "description: ")


def test_flag_attribute_keys():
    text = "train:\n  flags:\n    lr:\n      default: 1\n      t"
    got = items(text, 4)
    assert [i.label for i in got][:3] == ["description", "type", "required"]
    assert "default" not in [i.label for i in got]


def test_enum_values():
    text = "train:\n  flags:\n    lr:\n      type: "
    assert labels(text, 3) == ["string", "int", "float", "number", "boolean", "path", "existing-path", "auto"]


def test_top_level_item_keys():
    text = "- model: a\n- "
    got = labels(text, 1)
    assert got[:4] == ["model", "config", "package", "include"]


def test_requires_operation_value():
    text = "prep: {}\ntrain:\n  requires:\n    - operation: p"
    assert labels(text, 3) == ["prep"]


def test_comment_and_out_of_range():
    assert labels("# - tra\n", 0) == []
    assert complete(load(""), 5, 0).items == []


def test_completion_in_the_middle_of_a_step_replaces_the_word():
    text = OPS + "    - tr lr=1 opt=sgd"
    got = items(text, 27, 8)
    assert edit(got[1]) == (27, 6, 27, 8, "train")
    text = OPS + "    - train l opt=sgd"
    got = items(text, 27, 13)
    # opt is assigned after the cursor: not offered
    assert [(i.label, edit(i)) for i in got] == [("lr", (27, 12, 27, 13, "lr=")), ("fast", (27, 12, 27, 13, "fast="))]
    text = OPS + "    - train lx=1"
    got = items(text, 27, 13)
    assert edit(got[0]) == (27, 12, 27, 14, "lr")
    assert got[0].command is None
    text = OPS + "    - train opt=sg --label x"
    got = items(text, 27, 18)
    assert edit(got[0]) == (27, 16, 27, 18, "adam")


def test_reference_completion_inside_an_existing_reference():
    text = OPS.replace("lr=${x}", "lr=${xyz}")
    got = items(text, 23, len("    - run: train lr=${x"))
    assert [edit(i) for i in got] == [(23, 22, 23, 26, "x}")]  # the closing brace too: cursor after it


def test_inherited_operations_through_extends():
    text = """\
- config: base
  operations:
    prep: prep
- model: m
  extends: base
  operations:
    wf:
      steps:
        - p
"""
    got = items(text, 8)
    assert [i.label for i in got if i.kind.name == "Function"] == ["prep"]
    assert "wf" not in [i.label for i in got]


def test_extends_values_and_resource_keys():
    text = "- config: base\n- model: m\n  extends: "
    assert labels(text, 2) == ["base"]
    text = "- model: m\n  resources:\n    data:\n      sources:\n        - file: x\n          \n      "
    src = labels(text, 5)
    assert "select" in src and "file" not in src and "url" not in src
    res = labels(text, 6)
    assert "target-path" in res and "sources" not in res


def test_run_options():
    text = OPS + "    - train --la"
    got = items(text, 27)
    assert "--label" in [i.label for i in got] and "--run-dir" not in [i.label for i in got]
    assert edit([i for i in got if i.label == "--label"][0]) == (27, 12, 27, 16, "--label")


def test_a_space_is_added_right_after_a_trigger_dash_or_colon():
    text = OPS + "    -"
    got = items(text, 27)
    assert edit(got[0]) == (27, 5, 27, 5, " prep")
    text = "train:\n  flags:\n    lr:\n      type:"
    assert edit(items(text, 3)[0]) == (3, 11, 3, 11, " string")


def test_workflows_that_run_the_current_one_are_not_offered():
    text = "t: {exec: echo}\nwf-a:\n  steps:\n    - t\n    - \nwf-b:\n  steps: [wf-a]\n"
    got = labels(text, 4, 6)
    assert "t" in got and "wf-b" not in got and "wf-a" not in got


def test_workflows_that_run_the_current_one_through_others_are_not_offered():
    # wf-b runs wf-c, which runs wf-a: offering either in wf-a would make a cycle
    text = ("t: {exec: echo}\nwf-a:\n  steps:\n    - t\n    - \nwf-b:\n  steps: [wf-c]\n"
            "wf-c:\n  steps: [wf-a]\nwf-d:\n  steps: [t]\n")
    got = labels(text, 4, 6)
    assert "t" in got and "wf-d" in got and not {"wf-a", "wf-b", "wf-c"} & set(got)
    # step targets are indexed per document version: the next version sees its own operations
    got = labels(text + "u: {exec: echo}\n", 4, 6)
    assert "u" in got and "wf-d" in got


def test_many_step_targets_are_narrowed_by_the_typed_prefix():
    ops = "".join(f"op{i}: {{exec: echo}}\n" for i in range(300)) + "xy: {exec: echo}\n"
    text = ops + "wf:\n  steps:\n    - x\n"
    line = text.count("\n") - 1
    gf = load(text)
    res = complete(gf, line, 7)
    assert [i.label for i in res.items if i.kind.name == "Function"] == ["xy"]
    res = complete(gf, line - 0, 6)
    names = [i.label for i in res.items if i.kind.name == "Function"]
    assert res.is_incomplete and len(names) == 200 and names[:2] == ["op0", "op1"]


def test_model_qualified_step_right_after_the_colon():
    text = ("- model: cnn\n  operations:\n    train: {exec: echo}\n    prepare: {exec: echo}\n"
            "- model: pipe\n  operations:\n    all:\n      steps:\n        - cnn:\n")
    got = labels(text, 8, 14)
    assert "cnn:train" in got and "cnn:prepare" in got
    it = next(i for i in items(text, 8, 14) if i.label == "cnn:train")
    assert edit(it) == (8, 10, 8, 14, "cnn:train")


def test_requires_item_keys_do_not_change_its_kind():
    text = "train:\n  exec: echo\n  requires:\n    - operation: prep\n      \nprep: {exec: echo}\n"
    got = labels(text, 4, 6)
    assert "select" in got and "target-path" in got
    assert not {"file", "url", "config", "module", "sources", "resource", "operation"} & set(got)


def test_no_references_offered_where_guild_does_not_expand_them():
    text = "train:\n  flags: {lr: 0.1}\n  description: uses ${\n  exec: echo ${\n"
    assert labels(text, 2, 21) == []
    assert "lr" in labels(text, 3, 15)


def test_flags_dest_values():
    got = labels("train:\n  main: t\n  flags-dest: \n", 2, 14)
    assert {"args", "globals"} <= set(got)


def test_dollar_trigger_offers_whole_references():
    text = "t: {exec: echo}\nwf:\n  flags: {lr: 0.1}\n  steps:\n    - t x=$\n"
    its = items(text, 4, 11)
    it = next(i for i in its if i.label == "lr")
    assert edit(it) == (4, 11, 4, 11, "{lr}")
