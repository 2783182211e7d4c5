"""Did-you-mean on small candidate sets (schema attributes, an operation's flags): the
answers are difflib's, and a mapping with thousands of unknown keys costs a pass over
the candidates per distinct character multiset of the keys, not per key (the timing is
in bench/hostile.py: the 60,000-entry flow mapping)."""

import difflib
import random

from guildls import schema as gschema
from guildls.analysis import suggest as sg
from guildls.analysis.diagnostics import diagnose
from guildls.model import load


def _difflib(name, cands, exclude=()):
    skip = set(exclude) | {name}
    pool = [c for c in dict.fromkeys(cands) if c not in skip and isinstance(c, str)]
    return difflib.get_close_matches(name, pool, n=3, cutoff=0.6)


def test_small_sets_answer_as_difflib_for_random_names_and_anagrams():
    rnd = random.Random(14)
    attrs = list(gschema.section("operation").attrs)
    flags = ["lr", "learning-rate", "epochs", "epoch", "batch-size", "batch", "dropout", "opt", "rate", "tare"]
    for cands in (attrs, flags, flags + flags[:3], ["ab", "ba", "abc", "cab", "bca"]):
        words = list(cands)
        for _ in range(300):
            w = rnd.choice(words)
            op = rnd.randrange(5)
            if op == 0 and len(w) > 1:  # an anagram: same multiset of characters as a candidate
                w = "".join(rnd.sample(w, len(w)))
            elif op == 1:
                i = rnd.randrange(len(w) + 1)
                w = w[:i] + rnd.choice("abcdeflrt-_0") + w[i:]
            elif op == 2 and len(w) > 1:
                i = rnd.randrange(len(w))
                w = w[:i] + w[i + 1:]
            elif op == 3:
                w = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz-0123456789") for _ in range(rnd.randrange(1, 12)))
            exclude = tuple(rnd.sample(words, 2)) if rnd.random() < 0.3 else ()
            assert sg.suggest(w, cands, exclude=exclude) == _difflib(w, cands, exclude), (w, cands, exclude)
            # asked again (the remembered pass), and for the name itself among the candidates
            assert sg.suggest(w, cands, exclude=exclude) == _difflib(w, cands, exclude)
            assert sg.suggest(w, cands + [w]) == _difflib(w, cands + [w])


def test_many_unknown_keys_rank_only_near_candidates(monkeypatch):
    n = 6000
    text = "op: {" + ", ".join(f"k{i}: {i}" for i in range(n)) + ", descriptoin: x}\n"
    ranked = []
    real = difflib.get_close_matches
    monkeypatch.setattr(sg.difflib, "get_close_matches",
                        lambda w, p, n=3, cutoff=0.6: (ranked.append(w), real(w, p, n, cutoff))[1])
    sg._quick_cache.clear()
    probs = [p for p in diagnose(load(text)) if p.code == "unknown-attribute"]
    assert len(probs) == n + 1
    # no key k<i> is near an operation attribute: nothing ranked for them; the typo is
    assert ranked == ["descriptoin"]
    assert probs[-1].data["suggestions"] == ["description"]
    # one pass over the attributes per character multiset of the keys, not per key
    assert len(sg._quick_cache) <= len({"".join(sorted(f"k{i}")) for i in range(n)}) + 1
