"""The client's side of incremental sync: LSP lines (CR, LF, CRLF only), UTF-16
positions, and random edits that a real editor could send."""

import random
import re

from lsprotocol import types

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
# characters that some line splitters break on and LSP does not, plus CRLF pieces
ODD = ["\u2028", "\u2029", "\x85", "\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\r", "\n", "\r\n", "é", "😀", "\t"]
WORDS = ["op", ":", " ", "  ", "main: x\n", "steps:\n  - ", "${a}", "flags:\n", "&a ", "*a", "{{p}}", "-", "'", '"']


def lines(text):
    return _LINE.findall(text)


def utf16_len(s):
    return len(s.encode("utf-16-le")) // 2


def offset(text, line, char):
    """Code-point offset of an LSP position (UTF-16 character) in ``text``."""
    ls = lines(text)
    off = sum(len(x) for x in ls[:line])
    if line >= len(ls):
        return len(text)
    content = ls[line].rstrip("\r\n")
    units = 0
    for i, c in enumerate(content):
        if units >= char:
            return off + i
        units += utf16_len(c)
    return off + len(content)


def position_at(text, off):
    """The LSP position of code-point offset ``off``."""
    line = 0
    start = 0
    for ln in lines(text):
        if start + len(ln) > off or (start + len(ln) == off and not ln.endswith(("\n", "\r"))):
            break
        start += len(ln)
        line += 1
    return types.Position(line=line, character=utf16_len(text[start:off]))


def random_edit(rnd: random.Random, text: str):
    """(range, new text, resulting text): an edit between two code points (never inside
    a CRLF or a surrogate pair, as an editor would send)."""
    def boundary():
        o = rnd.randint(0, len(text))
        if 0 < o < len(text) and text[o - 1] == "\r" and text[o] == "\n":
            o -= 1
        return o

    a, b = sorted((boundary(), boundary()))
    if rnd.random() < 0.5:
        b = min(len(text), a + rnd.randint(0, 3))
        if 0 < b < len(text) and text[b - 1] == "\r" and text[b] == "\n":
            b += 1
    new = "".join(rnd.choice(ODD if rnd.random() < 0.4 else WORDS) for _ in range(rnd.randint(0, 3)))
    rng = types.Range(start=position_at(text, a), end=position_at(text, b))
    return rng, new, text[:a] + new + text[b:]
