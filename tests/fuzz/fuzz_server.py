"""Fuzz ``guildls serve``: mutated real guild files and hostile shapes, incremental
edits, every request type (valid and malformed), through the real protocol.

Counts: documents, requests, crashes (the server died), hangs (no answer within
``timeout`` — generous, a busy machine is not a hang), unanswered requests, divergences
(the server's copy of a document differs from the client's), popups, and the p99
latency of answered requests. Bounded by counts, not by clocks.

    python tests/fuzz/fuzz_server.py --docs 300 --edits 40 --seed 1     # the long run
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import sys
import tempfile
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    __package__ = "tests.fuzz"

from . import lspedits, shapes  # noqa: E402
from .rawclient import RawClient  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "corpus", "real"))

POSITION_REQUESTS = ("textDocument/hover", "textDocument/completion", "textDocument/definition",
                     "textDocument/references", "textDocument/prepareRename", "textDocument/rename")
DOC_REQUESTS = ("textDocument/documentSymbol", "textDocument/codeLens", "textDocument/codeAction")


def corpus_texts():
    out = []
    for path in sorted(glob.glob(os.path.join(CORPUS, "**", "*.y*ml"), recursive=True)):
        try:
            with open(path, encoding="utf-8") as f:
                out.append(f.read())
        except (OSError, UnicodeDecodeError):
            pass
    return out


def hostile_texts():
    return [shapes.alias_bomb(12), shapes.params_bomb(40), shapes.huge_int(), shapes.many_typos(300),
            shapes.extends_chain(400), shapes.flow_mapping(2000), shapes.line_separators(),
            shapes.deep_flow_seq(), shapes.deep_flow_map(), shapes.deep_block_seq(), shapes.deep_block_map(400),
            shapes.deep_flag_value(), shapes.typos_few_ops(200, 400),
            "", "\ufeff", "- \n" * 50, "{" * 200, "[" * 200 + "]" * 200, "a: &a [*a]\n", "op: !!python/object x\n",
            "op:\n  flags:\n    x: 0o" + "7" * 6000 + "\n", "\x00\x01op:\n", "op:\n  steps: [op]\n" * 3]


def mutate(rnd: random.Random, text: str) -> str:
    lines = text.split("\n")
    for _ in range(rnd.randint(0, 3)):
        if not lines:
            break
        i = rnd.randrange(len(lines))
        r = rnd.random()
        if r < 0.3:
            lines.insert(i, lines[rnd.randrange(len(lines))])
        elif r < 0.5:
            del lines[i]
        elif r < 0.7:
            lines[i] = " " * rnd.randint(0, 6) + lines[i].lstrip()
        elif r < 0.85:
            j = rnd.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines[i] = lines[i] + rnd.choice(lspedits.ODD + lspedits.WORDS)
    return "\n".join(lines)


def _position(rnd, text):
    if rnd.random() < 0.1:  # past the end / odd but valid
        return {"line": rnd.choice([0, 10 ** 6, 2 ** 31 - 1]), "character": rnd.choice([0, 10 ** 6, 2 ** 31 - 1])}
    if not text:
        return {"line": 0, "character": 0}
    p = lspedits.position_at(text, rnd.randint(0, len(text)))
    return {"line": p.line, "character": p.character}


def _bad_position(rnd):
    return rnd.choice([{"line": -1, "character": 0}, {"line": 0, "character": 2 ** 40}, {"line": 2 ** 31},
                       None, "x", {}])


class Stats:
    def __init__(self):
        self.documents = self.requests = self.crashes = self.hangs = self.unanswered = 0
        self.divergences = self.popups = 0
        self.latencies = []
        self.slow = []  # (seconds or None for no answer, method, document number, its source)

    def p99_ms(self):
        if not self.latencies:
            return 0.0
        xs = sorted(self.latencies)
        return round(1000 * xs[min(len(xs) - 1, int(0.99 * len(xs)))], 1)

    def as_dict(self):
        return {"documents": self.documents, "requests": self.requests, "crashes": self.crashes,
                "hangs": self.hangs, "unanswered": self.unanswered, "divergences": self.divergences,
                "popups": self.popups, "p99_ms": self.p99_ms(),
                "max_ms": round(1000 * max(self.latencies), 1) if self.latencies else 0.0,
                "slowest": [f"{'no answer' if t is None else f'{t:.1f} s'}: {m} on document {d} ({src})"
                            for t, m, d, src in sorted(self.slow, key=lambda x: -(x[0] or 1e9))[:10]]}


SLOW = 2.0  # seconds: requests slower than this are listed (with their document) in "slowest"


def fuzz(docs: int = 20, edits: int = 10, seed: int = 1, timeout: float = 60.0, requests_per_edit: int = 2,
         hostile_only: bool = False) -> Stats:
    rnd = random.Random(seed)
    pool = corpus_texts()
    hostile = hostile_texts()
    st = Stats()
    with tempfile.TemporaryDirectory() as tmp:
        client = RawClient(cwd=tmp)
        client.initialize(root_uri="file://" + tmp)

        where = [0, ""]

        def ask(method, params):
            st.requests += 1
            t = time.monotonic()
            r = client.request(method, params, timeout=timeout)
            if r is None:
                if client.proc.poll() is not None:
                    st.crashes += 1
                    raise RuntimeError("server died")
                st.hangs += 1
                st.unanswered += 1
                st.slow.append((None, method, *where))
                return None
            took = time.monotonic() - t
            st.latencies.append(took)
            if took > SLOW:
                st.slow.append((took, method, *where))
            return r

        try:
            for d in range(docs):
                if d % 4 == 3 or not pool or hostile_only:
                    where[:] = [d, f"hostile shape {d % len(hostile)}"]
                    base = hostile[d % len(hostile)]
                else:
                    base = rnd.choice(pool)
                    where[:] = [d, f"corpus file {pool.index(base)}"]
                text = mutate(rnd, base)
                uri = f"file://{tmp}/d{d}/guild.yml"
                client.notify("textDocument/didOpen", {"textDocument": {
                    "uri": uri, "languageId": "yaml", "version": 1, "text": text}})
                st.documents += 1
                for v in range(2, edits + 2):
                    rng, new, text = lspedits.random_edit(rnd, text)
                    client.notify("textDocument/didChange", {
                        "textDocument": {"uri": uri, "version": v},
                        "contentChanges": [{"range": {
                            "start": {"line": rng.start.line, "character": rng.start.character},
                            "end": {"line": rng.end.line, "character": rng.end.character}}, "text": new}]})
                    for _ in range(requests_per_edit):
                        r = rnd.random()
                        if r < 0.6:
                            m = rnd.choice(POSITION_REQUESTS)
                            ask(m, {"textDocument": {"uri": uri}, "position": _position(rnd, text),
                                    "newName": rnd.choice(["x", "op2", "a b", ""]),
                                    "context": {"includeDeclaration": True}})
                        elif r < 0.8:
                            m = rnd.choice(DOC_REQUESTS)
                            p0 = _position(rnd, text)
                            ask(m, {"textDocument": {"uri": uri},
                                    "range": {"start": p0, "end": p0}, "context": {"diagnostics": []}})
                        elif r < 0.9:
                            ask("workspace/executeCommand", {"command": "guildls.showPlan", "arguments": [
                                {"uri": uri, "operation": rnd.choice(["op", "wf", "m:op", "x", ""])}]})
                        else:
                            m = rnd.choice(POSITION_REQUESTS)
                            resp = ask(m, {"textDocument": {"uri": uri}, "position": _bad_position(rnd)})
                            if resp is not None and "error" not in resp:
                                st.unanswered += 1  # a malformed request must get an error
                got = ask("workspace/executeCommand", {"command": "guildls._documentText", "arguments": [uri]})
                if got is not None and got.get("result") != text:
                    st.divergences += 1
                client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
            # the server still answers a trivial request
            if ask("textDocument/documentSymbol", {"textDocument": {"uri": f"file://{tmp}/none/guild.yml"}}) is None:
                st.hangs += 1
        except RuntimeError:
            pass
        finally:
            st.popups = len(client.popups())
            client.close()
    return st


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=300)
    ap.add_argument("--edits", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--hostile-only", action="store_true", help="only mutated hostile shapes")
    args = ap.parse_args(argv)
    st = fuzz(args.docs, args.edits, args.seed, args.timeout, hostile_only=args.hostile_only)
    print(json.dumps(st.as_dict(), indent=2))
    d = st.as_dict()
    bad = d["crashes"] + d["hangs"] + d["unanswered"] + d["divergences"] + d["popups"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
