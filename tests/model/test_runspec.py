"""Run strings of steps split and decoded as Guild does (model/runspec.py)."""

import random
import shlex

from guildls.model import flagvals
from guildls.model.runspec import _split_quoted, decode_flag_value, parse_run, split_words

SPACES = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\u00a0", "\u2003", "\u3000"]
OTHERS = list("abz09=-.:,[]{}$*/_") + ["é", "\u200b", "${lr}"]


def test_text_without_quotes_or_escapes_splits_as_the_quoting_loop_does():
    rnd = random.Random(14)
    for _ in range(3000):
        s = "".join(rnd.choice(SPACES if rnd.random() < 0.3 else OTHERS) for _ in range(rnd.randint(0, 30)))
        assert split_words(s) == _split_quoted(s), repr(s)
    words, err = split_words("op0  lr=${lr}\tepochs=3 ")
    assert err is None and [(w.text, w.start, w.end) for w in words] == [
        ("op0", 0, 3), ("lr=${lr}", 5, 13), ("epochs=3", 14, 22)]


def test_quoted_text_splits_as_shlex():
    for s in ["op --label 'a b' x=\"1 2\"", "op x=a\\ b", "op 'x=''y'"]:
        words, err = split_words(s)
        assert err is None and [w.text for w in words] == shlex.split(s)
    assert split_words("op 'x")[1] == "No closing quotation"


def test_remembered_decodings_are_the_decoder_s_and_lists_are_never_shared():
    for text in ["1", "1.0", "1e-3", "yes", "no", "null", "abc", "${lr}", "1_000", "[1:3]", "uniform[0:1]", "'q'", ""]:
        for _ in range(2):  # the second answer comes from the memo
            got = decode_flag_value(text)
            want = flagvals.decode_flag_val(text)
            assert got == want and type(got) is type(want), text
    a, b = decode_flag_value("[1,2]"), decode_flag_value("[1,2]")
    assert a == [1, 2] and a is not b
    a.append(3)
    assert parse_run("op x=[1,2]").assigns[0].value == [1, 2]
