"""The cyclic collector is paused while a model is loaded and checked, from before the
first allocation, and its state is restored afterwards, also when loading or checking
raises."""

import gc
import os
import sys

import pytest

from guildls.analysis import diagnostics, schema_check
from guildls.model import guildfile, load
from guildls.model.collector import collector_paused

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
from gen import GENERATORS  # noqa: E402


class _Obj:
    pass


@pytest.fixture
def collections():
    """Every collection while the test runs, with a threshold of one allocation (any
    allocation with the collector on starts one)."""
    seen = []

    def cb(phase, info):
        if phase == "start":
            seen.append(info["generation"])

    was, threshold = gc.isenabled(), gc.get_threshold()
    gc.collect()
    gc.callbacks.append(cb)
    gc.set_threshold(1, 1, 1)
    try:
        yield seen
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(cb)
        if was:
            gc.enable()
        else:
            gc.disable()


@pytest.mark.parametrize("enabled", [True, False])
def test_the_state_is_restored_nested_and_on_exceptions(enabled):
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        with collector_paused():
            assert not gc.isenabled()
            with collector_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()  # the inner block does not turn it back on
        assert gc.isenabled() == enabled
        with pytest.raises(KeyError):
            with collector_paused():
                raise KeyError("x")
        assert gc.isenabled() == enabled
    finally:
        gc.enable() if was else gc.disable()


@pytest.mark.parametrize("enabled", [True, False])
def test_load_and_diagnose_restore_the_state_when_they_raise(monkeypatch, enabled):
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()

        def boom(*a, **k):
            assert not gc.isenabled()
            raise KeyError("boom")

        with monkeypatch.context() as m:
            m.setattr(guildfile._Loader, "load", boom)
            with pytest.raises(KeyError):
                load("op:\n  main: m\n")
        assert gc.isenabled() == enabled
        gf = load("op:\n  main: m\n")
        assert gc.isenabled() == enabled
        with monkeypatch.context() as m:
            m.setattr(schema_check, "check", boom)
            with pytest.raises(KeyError):
                diagnostics.diagnose(gf)
        assert gc.isenabled() == enabled
        assert diagnostics.diagnose(gf) == []
        assert gc.isenabled() == enabled
    finally:
        gc.enable() if was else gc.disable()


def test_no_collection_while_a_model_is_loaded_and_checked(collections):
    text = GENERATORS["realistic"](20)
    gc.disable()
    young = [_Obj() for _ in range(5)]  # past the threshold: the next allocation collects
    gc.enable()
    collections.clear()
    gf = load(text)  # would start one at its first allocation if paused only later
    problems = diagnostics.diagnose(gf)  # the model is young: a collection would scan it
    during = len(collections)  # (no allocation: an assert's own objects would collect)
    assert during == 0
    assert gc.isenabled() and problems and young
    _Obj()  # the collector is on again: the next allocation (no free list) collects
    after = len(collections)
    assert after > 0
