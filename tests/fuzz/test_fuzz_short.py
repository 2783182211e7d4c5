"""The short fuzz run of `make test` (the long one: README, "Fuzzing"). Bounded by
counts: a few dozen documents and edits; a hang is no answer within a minute."""

from .fuzz_server import fuzz


def test_short_fuzz_run():
    st = fuzz(docs=24, edits=8, seed=7, timeout=60.0)
    d = st.as_dict()
    assert d["documents"] == 24 and d["requests"] > 24 * 8
    assert (d["crashes"], d["hangs"], d["unanswered"], d["divergences"], d["popups"]) == (0, 0, 0, 0, 0), d
