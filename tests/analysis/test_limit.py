"""diagnostics.limit: at most N diagnostics, errors first, the last one saying how many more."""

from guildls.analysis.diagnostics import limit
from guildls.model import Problem
from guildls.model.guildfile import Range


def _problems(severities):
    return [Problem(f"c{i}", s, f"m{i}", Range(i, 0, i, 1)) for i, s in enumerate(severities)]


def test_under_or_at_the_cap_nothing_changes():
    ps = _problems(["warning"] * 3)
    assert limit(ps, 3) is ps and limit(ps, None) is ps and limit(ps, 0) is ps and limit(ps, -1) is ps


def test_errors_first_in_document_order_then_the_summary():
    ps = _problems(["warning", "warning", "error", "warning", "error"])
    got = limit(ps, 4)
    assert [p.code for p in got] == ["c0", "c2", "c4", "too-many-problems"]
    last = got[-1]
    assert last.severity == "information" and last.range == ps[1].range  # the first one left out
    assert last.message.startswith("2 more problems are not shown: at most 4 diagnostics")


def test_more_errors_than_room():
    ps = _problems(["error"] * 5)
    got = limit(ps, 3)
    assert [p.code for p in got] == ["c0", "c1", "too-many-problems"]
    assert got[-1].message.startswith("3 more problems") and got[-1].range == ps[2].range


def test_a_cap_of_one_is_the_summary_alone():
    ps = _problems(["warning", "error"])
    got = limit(ps, 1)
    assert [p.code for p in got] == ["too-many-problems"] and got[0].range == ps[0].range
    assert got[0].message.startswith("2 more problems")
