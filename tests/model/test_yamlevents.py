"""libyaml's events as argument tuples while the event builder reads (model/yamlevents.py)."""

import threading

import yaml
import yaml._yaml as cyaml
import yaml.events as E

from guildls.model import load, yamlevents
from guildls.model.nodes import compose

NAMES = ("ScalarEvent", "MappingStartEvent", "MappingEndEvent", "SequenceStartEvent", "SequenceEndEvent",
         "AliasEvent", "StreamStartEvent", "StreamEndEvent", "DocumentStartEvent", "DocumentEndEvent")


def _pyyaml_own():
    return all(getattr(cyaml, n) is getattr(E, n) for n in NAMES)


def test_the_installed_pyyaml_is_read_this_way():
    assert yamlevents.AVAILABLE  # else every model is built from yaml.compose: slower
    assert _pyyaml_own()


def test_pyyaml_gets_its_classes_back_after_a_build_and_after_a_failed_one():
    compose("a: [1, 2]\nb: {c: d}\n")
    assert _pyyaml_own()
    assert compose("a: [1, 2\nb: ]\n").syntax_errors  # the builder raised inside
    assert _pyyaml_own()
    load("op:\n  main: x\n  flags: {a: 1}\n")
    assert _pyyaml_own()


def test_while_in_effect_events_are_still_pyyamls_to_anyone_else():
    text = "%YAML 1.1\n---\na: &x [1, 'b', {c: null}]\n? d\n: *x\n"
    plain = list(yaml.parse(text, Loader=yaml.CSafeLoader))
    with yamlevents.args_events:
        assert not _pyyaml_own()
        fast = list(yaml.parse(text, Loader=yaml.CSafeLoader))
        # the C emitter's dump makes its events itself: unaffected
        assert yaml.dump({"a": [1, "b"]}, Dumper=yaml.CSafeDumper) == "a:\n- 1\n- b\n"
    assert _pyyaml_own()
    assert [type(e).__name__ for e in fast] == [type(e).__name__ for e in plain]
    for p, f in zip(plain, fast):
        assert isinstance(f, type(p))
        assert repr(f) == repr(p)
        for attr in ("anchor", "tag", "implicit", "value", "style", "flow_style"):
            assert getattr(f, attr, "-") == getattr(p, attr, "-")
        assert (f.start_mark.line, f.start_mark.column) == (p.start_mark.line, p.start_mark.column)


def test_nested_and_concurrent_builds_share_one_replacement():
    text = "".join(f"op{i}:\n  main: m{i}\n  flags:\n    a: {i}\n    b: [x, y]\n" for i in range(400))
    want = compose(text).root.py()
    results, errors = [], []
    start = threading.Barrier(4)

    def work():
        try:
            start.wait(timeout=60)
            for _ in range(5):
                results.append(compose(text).root.py() == want)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors and results == [True] * 20
    assert _pyyaml_own()
    with yamlevents.args_events:
        with yamlevents.args_events:
            assert compose("a: 1\n").root.py() == {"a": 1}
        assert not _pyyaml_own()
    assert _pyyaml_own()
