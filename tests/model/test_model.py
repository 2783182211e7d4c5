"""The positioned model: shapes, positions, inheritance, steps, tolerance."""

import textwrap

from guildls.model import load
from guildls.model.runspec import decode_flag_value, parse_run


def L(text):
    return load(textwrap.dedent(text).lstrip("\n"))


def test_operation_only_mapping_with_positions():
    gf = L("""
        train:
          description: Train it
          main: train
          flags:
            lr: 0.1
            epochs: {default: 2, type: int, min: 1}
        prep: prepare_data
        """)
    assert gf.format == "operations"
    m = gf.models[""]
    assert sorted(m.operations) == ["prep", "train"]
    train = m.operations["train"]
    assert train.description == "Train it"
    assert train.key.range == (0, 0, 0, 5)
    assert train.flags["lr"].default == 0.1
    assert train.flags["lr"].key_range == (4, 4, 4, 6)
    assert train.flags["epochs"].type == "int" and train.flags["epochs"].min == 1
    assert m.operations["prep"].main == "prepare_data"


def test_full_format_models_configs_extends_first_parent_wins():
    gf = L("""
        - config: base
          operations:
            train:
              main: train
              flags: {lr: {default: 0.1, description: learning rate}}
        - config: other
          operations:
            train: {flags: {lr: 0.5}}
            eval: evaluate
        - model: m
          extends: [base, other]
          operations:
            train:
              flags: {lr: 0.01}
        """)
    assert gf.format == "full"
    assert list(gf.models) == ["m"] and sorted(gf.configs) == ["base", "other"]
    m = gf.models["m"]
    assert sorted(m.operations) == ["eval", "train"]
    lr = m.operations["train"].flags["lr"]
    assert lr.default == 0.01
    assert lr.description == "learning rate"
    assert m.operations["train"].main == "train"
    assert gf.find_operation("m:eval").name == "eval"


def test_extends_cycle_and_unknown_parent_are_errors_with_guild_wording():
    gf = L("""
        - model: a
          extends: b
        - model: b
          extends: a
        - model: c
          extends: nope
        """)
    msgs = [p.message for p in gf.problems]
    assert any(m.startswith("cycle in 'extends' (") for m in msgs), msgs
    assert "undefined model or config 'nope'" in msgs


def test_anchors_aliases_and_merge_keys():
    gf = L("""
        base: &base
          main: train
          flags: {lr: 0.1}
        tuned:
          <<: *base
          description: tuned
        """)
    tuned = gf.models[""].operations["tuned"]
    assert tuned.main == "train"
    assert tuned.flags["lr"].default == 0.1
    assert tuned.description == "tuned"


def test_params_and_include_directive():
    gf = L("""
        - config: shared
          flags:
            lr: {default: 0.1, description: rate}
        - model: m
          params: {epochs: 5}
          operations:
            train:
              main: "train --epochs {{ epochs }}"
              flags:
                $include: shared
                batch: 32
        """)
    op = gf.models["m"].operations["train"]
    assert op.main == "train --epochs 5"
    assert sorted(op.flags) == ["batch", "lr"]
    assert op.flags["lr"].description == "rate"


def test_step_string_is_parsed_as_run_command_with_ranges():
    text = "wf:\n  steps:\n    - train lr=0.5 --label 'my run' -m 3\n    - run: prep\n      flags: {rows: 7}\n"
    gf = load(text)
    wf = gf.models[""].operations["wf"]
    assert wf.is_workflow
    s0, s1 = wf.steps
    assert s0.opspec == "train"
    assert s0.opspec_range == (2, 6, 2, 11)
    assert [(a.name, a.value) for a in s0.assigns] == [("lr", 0.5)]
    assert s0.assigns[0].name_range == (2, 12, 2, 14)
    assert s0.options["label"] == "my run" and s0.options["max_trials"] == "3"
    assert s1.opspec == "prep" and [(a.name, a.value) for a in s1.flags_map] == [("rows", 7)]


def test_quoted_step_string_ranges_point_into_the_quotes():
    gf = load('wf:\n  steps:\n    - "train x=${y}"\n')
    ref = gf.refs[0]
    assert ref.name == "y"
    assert ref.range == (2, 15, 2, 19)


def test_flags_mapping_replaces_run_assigns():
    gf = L("""
        op: {main: op, flags: {x: 0, y: 0}}
        wf:
          steps:
            - run: op x=3
              flags: {y: 4}
        """)
    st = gf.models[""].operations["wf"].steps[0]
    assert [a.name for a in st.effective_assigns] == ["y"]


def test_resource_flags_from_operation_dependencies():
    gf = L("""
        prep: {main: prep}
        train:
          main: train
          requires:
            - operation: prep
        """)
    train = gf.models[""].operations["train"]
    assert "operation:prep" in train.flags
    assert train.find_flag("prep").name == "operation:prep"


def test_partial_document_keeps_what_parses():
    gf = load("train:\n  main: train\n  flags:\n    lr: 0.1\nbad: [unclosed\nother: x\n")
    assert gf.partial
    assert any(p.code == "yaml-syntax" for p in gf.problems)
    assert "train" in gf.models[""].operations


def test_run_spec_parsing_and_value_decoding():
    spec = parse_run("op a=1 b=yes 'c=two words' @batch.csv --needed --tag t1 -t t2")
    assert spec.opspec == "op"
    assert [(a.name, a.value) for a in spec.assigns] == [("a", 1), ("b", True), ("c", "two words")]
    assert spec.options["needed"] is True and spec.options["tags"] == ["t1", "t2"]
    assert [w.text for w in spec.batch_files] == ["@batch.csv"]
    assert parse_run("op --nope").problems[0][0] == "No such option '--nope'."
    assert parse_run("op word").problems[0][0] == "invalid argument(s): word expected NAME=VAL"
    assert decode_flag_value("1e-5") == 1e-5
    assert decode_flag_value("1_000") == "1_000"
    assert decode_flag_value("[1,2]") == [1, 2]
    assert decode_flag_value("uniform[0:1]") == "uniform[0:1]"


def test_never_raises_on_hostile_input():
    for text in ["", "\x00\x01", "- - - -", "[" * 5000, "a: &a [*a]", "\t- x", "- 1\n- 2", "123", "a:\n\tb: 1"]:
        gf = load(text)
        assert gf is not None


def test_dispose_frees_the_model_without_the_cyclic_collector():
    import gc
    import weakref

    gf = L("""
        prep: {main: prep, flags: {rows: 5}}
        train:
          main: train
          requires: [{operation: prep}]
        wf:
          flags: {x: 1}
          steps: [prep rows=${x}, train]
        """)
    op = weakref.ref(gf.models[""].operations["wf"])
    flag = weakref.ref(gf.models[""].operations["prep"].flags["rows"])
    gc.disable()
    try:
        gf.dispose()
        del gf
        assert op() is None and flag() is None  # freed by reference counting alone
    finally:
        gc.enable()


def test_flag_value_fast_paths_match_yaml():
    import yaml

    from guildls.model.flagvals import decode_yaml
    from guildls.model.nodes import safe_load

    samples = ["${lr}", "${a} ${b}", "abc", "a:b", "a: b", "x_y", "/p/q", "Yes", "NULL", "~", "a b", "${x}:",
               "sgd", "on", "Off", "a #c", "#c", "2020-01-01", "1e5", "0x1f", "[1, 2]", "{a: 1}", "'q'", "y", "n"]
    for s in samples:
        # Guild's resolver rules (model/nodes.py): the slow path is PyYAML with them
        assert decode_yaml(s) == safe_load(s), s
        if s != "1e5":
            assert decode_yaml(s) == yaml.safe_load(s), s


def test_values_follow_guilds_resolver():
    """Guild patches PyYAML at start (guild/yaml_util.py): a float's exponent sign and
    decimal point are optional; everything else reads as in YAML 1.1 (oracle:
    tests/oracle/test_guild_runtime.py::test_scientific_notation_values_as_guild)."""
    from guildls.model.flagvals import decode_yaml, encode_flag_val

    for text, value in (("1e-3", 0.001), ("1e5", 100000.0), ("1.0e3", 1000.0), ("-2E2", -200.0), ("1_000", 1000),
                        ("1.5", 1.5), ("0x1f", 31), ("1e", "1e"), ("e5", "e5"), ("1e-3x", "1e-3x")):
        assert decode_yaml(text) == value and type(decode_yaml(text)) is type(value), text
    assert encode_flag_val("1e-3") == "'1e-3'"  # text that Guild would read as a float stays text
    gf = load("train: {main: t, flags: {lr: 1e-3, n: {default: 2e2, min: 1e1}}}\n")
    op = gf.find_operation("train")
    assert op.flags["lr"].default == 0.001 and op.flags["n"].default == 200.0 and op.flags["n"].min == 10.0


def test_ranges_inside_block_and_folded_step_strings():
    text = ('train: {main: t, flags: {lr: 0.1}}\n'
            'wf:\n  steps:\n'
            '    - run: >\n        train\n        bad=1\n'
            '    - run: |\n        train lr=${zz}\n'
            '    - run: "train \\\n        cc=1"\n')
    gf = load(text)
    s0, s1, s2 = gf.models[""].operations["wf"].steps
    assert s0.opspec_range == (4, 8, 4, 13)
    assert s0.assigns[0].name_range == (5, 8, 5, 11)
    assert gf.refs[0].range == (7, 17, 7, 22)
    assert s2.assigns[0].name_range == (9, 8, 9, 10)


def test_ranges_skip_anchors_and_tags():
    for exec_ in ("&e python t.py --x ${nope}", "!!str python t.py --x ${nope}", '&e "python t.py --x ${nope}"'):
        gf = load(f"train:\n  exec: {exec_}\n")
        (ref,) = gf.refs
        line = gf.lines[1]
        assert line[ref.range.start_col:ref.range.end_col] == "${nope}", exec_


def test_packages_from_the_configured_interpreter_asked_once(tmp_path):
    """`extends: pkg/model` finds a package on the configured interpreter's sys.path (asked
    once, cached) when it is not a sibling project; truly absent packages get Guild's words."""
    import sys

    from guildls.analysis.diagnostics import diagnose
    from guildls.executor.interpreter import sys_path_of, use_configured_interpreter
    from guildls.model import load_path, packages

    site = tmp_path / "site"
    (site / "my_pkg").mkdir(parents=True)
    (site / "my_pkg" / "guild.yml").write_text("- model: base\n  operations: {train: {main: t, flags: {lr: 1}}}\n")
    proj = tmp_path / "ws" / "proj"
    proj.mkdir(parents=True)
    (proj / "guild.yml").write_text("- model: m\n  extends: my-pkg/base\n- model: n\n  extends: other-pkg/base\n")
    calls = []
    packages.set_interpreter_paths(lambda: calls.append(1) or [str(site)])
    try:
        for _ in range(3):
            gf = load_path(str(proj / "guild.yml"))
            assert sorted(gf.models["m"].operations) == ["train"] and not gf.models["m"].open
            probs = diagnose(gf)
            assert not [p for p in probs if p.severity == "error"]
            assert [p.message.split(" (")[0] for p in probs if p.code == "extends-error"] == [
                "cannot find Guild file for package 'other-pkg'"]
        assert calls == [1]
    finally:
        packages.set_interpreter_paths(None)
    assert str(tmp_path) not in "".join(packages.interpreter_paths())
    assert sys_path_of(sys.executable) and sys_path_of(str(tmp_path / "no-python")) == []
    use_configured_interpreter({"GUILDLS_PYTHON": str(tmp_path / "no-python")})
    try:
        assert packages.interpreter_paths() == []  # asked, no answer: siblings only
    finally:
        use_configured_interpreter({})
    assert packages.interpreter_paths()  # the running interpreter's sys.path


def test_script_flags_follow_the_script_when_operations_are_reused(tmp_path):
    """An operation reused from the previous version of the document (incremental parse)
    gets the flags of the script as it is now, not as it was."""
    import os

    from guildls.model.chunks import ChunkCache
    from guildls.model.guildfile import load as load_chunked

    script = tmp_path / "train.py"
    script.write_text("lr = 0.1\nepochs = 2\n")
    text = "train:\n  main: train\n  flags-import: all\n"
    path = str(tmp_path / "guild.yml")
    cache = ChunkCache()
    op = load_chunked(text, path, chunks=cache).models[""].operations["train"]
    assert sorted(op.flags) == ["epochs", "lr"] and not op.flags_open
    script.write_text("lr = 0.1\nbatch = 32\n")
    st = os.stat(script)
    os.utime(script, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    op2 = load_chunked(text, path, chunks=cache).models[""].operations["train"]
    assert sorted(op2.flags) == ["batch", "lr"] and not op2.flags_open
    script.write_text("import argparse\nimport helpers\np = argparse.ArgumentParser()\nhelpers.add(p)\n")
    os.utime(script, ns=(st.st_atime_ns, st.st_mtime_ns + 2 * 10**9))
    op3 = load_chunked(text, path, chunks=cache).models[""].operations["train"]
    assert op3.flags == {} and op3.flags_open  # read incompletely: open again


def test_script_flags_are_read_once_per_file_version(tmp_path, monkeypatch):
    """Reading a script's flags parses it once per version of the file (path, mtime,
    size): 40 operations sharing one module and a second load of the guild file read it
    once; a change to the script is read again."""
    import os

    from guildls.model import scriptflags

    reads = []
    real_read = scriptflags._read
    monkeypatch.setattr(scriptflags, "_read", lambda path, size: reads.append(path) or real_read(path, size))
    script = tmp_path / "train.py"
    script.write_text("import argparse\np = argparse.ArgumentParser()\np.add_argument('--lr', type=float, default=0.1)\n"
                      "p.parse_args()\n")
    text = "".join(f"op{i}:\n  main: train\n  flags-import: all\n" for i in range(40))
    path = str(tmp_path / "guild.yml")
    for _ in range(2):
        gf = load(text, path)
        assert all(sorted(op.flags) == ["lr"] for op in gf.models[""].operations.values())
    assert reads == [str(script)]
    script.write_text(script.read_text().replace("'--lr'", "'--learning-rate'"))
    st = os.stat(script)
    os.utime(script, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    gf = load(text, path)
    assert sorted(gf.models[""].operations["op0"].flags) == ["learning-rate"]
    assert reads == [str(script)] * 2


def test_encoded_scalars_are_remembered_without_mixing_equal_values():
    from guildls.model import flagvals

    values = [0.0, -0.0, 1, 1.0, "1", True, 1e-05, 1.5, 0.1 + 0.2, "a b", "", "yes", "1e-3", 10 ** 20,
              float("inf"), float("-inf"), float("nan"), "x: y", "'q'", [1, "a"], {"a": 1}, None]
    for _ in range(2):  # the second time from the memo
        for v in values:
            assert flagvals.encode_yaml(v) == flagvals._encode_yaml(v, False), v
            assert flagvals.encode_yaml(v, True) == flagvals._encode_yaml(v, True), v
    assert flagvals.encode_yaml(-0.0) != flagvals.encode_yaml(0.0)
