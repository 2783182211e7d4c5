"""Where a one-line edit's time goes inside the server: didChange -> publishDiagnostics.

Usage: python bench/edit_profile.py [--ops 5000] [--gen realistic|flat|both] [--edits 5]
                                    [--profile FILE.prof] [--top 30] [--kind value|newline]

The server (``create_server()``) runs in this process: JSON-RPC messages are decoded and
handled by its own protocol object, the way they are over stdio, with the debounce off
(a didChange publishes at once), and what it writes goes to a byte counter. The document
(a guild file from bench/gen.py) is opened, then `--edits` one-line edits in the middle of
the file (a flag default changes, as bench/nvim_edit.py does, then back) are each timed
from the didChange message to the end of the publishDiagnostics write: CPU time of this process
(``time.process_time``, what a busy machine does not inflate) and wall time. The
reference, measured in the same run, is the open (a full parse and check of the same
text). "first" is the first edit after the open (the one bench/nvim_edit.py times). To
time another checkout's server with the same script: PYTHONPATH=OTHER/server. With --profile, the edits run under cProfile and the top functions (by cumulative
time) are printed.
"""

import argparse
import cProfile
import gc
import os
import pstats
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gen import GENERATORS  # noqa: E402
from nvim_edit import edit_line  # noqa: E402

URI = "file:///tmp/guildls-bench-profile/guild.yml"


class Sink:
    """The server's output stream: counts bytes and publishDiagnostics notifications."""

    def __init__(self):
        self.bytes = 0
        self.published = 0

    def write(self, data):
        self.bytes += len(data)
        if b'"textDocument/publishDiagnostics"' in data:
            self.published += 1

    def flush(self):
        pass

    def close(self):
        pass


def make_server():
    from guildls.lsp.server import create_server

    ls = create_server()
    sink = Sink()
    ls.protocol.set_writer(sink)
    return ls, sink


def send(ls, method, params, msg_id=None):
    data = {"jsonrpc": "2.0", "method": method, "params": params}
    if msg_id is not None:
        data["id"] = msg_id
    ls.protocol.handle_message(ls.protocol.structure_message(data))


def start(ls, text):
    send(ls, "initialize", {"processId": None, "rootUri": None, "capabilities": {},
                            "initializationOptions": {"debounce": 0, "runsPollInterval": 3600000}}, 1)
    send(ls, "initialized", {})
    send(ls, "textDocument/didOpen", {"textDocument": {"uri": URI, "languageId": "yaml", "version": 1,
                                                       "text": text}})


def change(ls, version, line, old, new):
    send(ls, "textDocument/didChange", {
        "textDocument": {"uri": URI, "version": version},
        "contentChanges": [{"range": {"start": {"line": line, "character": 0},
                                      "end": {"line": line, "character": len(old)}}, "text": new}]})


def newline(ls, version, line, col):
    """Enter typed at the end of `line`: a new empty line below it."""
    pos = {"line": line, "character": col}
    send(ls, "textDocument/didChange", {
        "textDocument": {"uri": URI, "version": version},
        "contentChanges": [{"range": {"start": pos, "end": pos}, "text": "\n"}]})


def run(gen, n, edits, profile, top, kind="value"):
    text = GENERATORS[gen](n)
    line, new = edit_line(text)
    old = text.split("\n")[line]
    ls, sink = make_server()
    c0, w0 = time.process_time(), time.perf_counter()
    start(ls, text)
    open_cpu, open_wall = (time.process_time() - c0) * 1000, (time.perf_counter() - w0) * 1000
    n_diags = len(ls._diags.get(URI, (0, []))[1])
    cpu, wall = [], []
    prof = cProfile.Profile() if profile else None
    cur, other = old, new
    for i in range(edits):
        before = sink.published
        c0, w0 = time.process_time(), time.perf_counter()
        if prof:
            prof.enable()
        if kind == "newline":  # Enter again and again: each edit moves every line below it
            newline(ls, i + 2, line, len(old))
        else:
            change(ls, i + 2, line, cur, other)
        if prof:
            prof.disable()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
        assert sink.published == before + 1, "no publishDiagnostics for the edit"
        cur, other = other, cur
    chunks = ls._chunks.get(URI)
    print(f"{gen:>9} {n:>6} ops{' newline' if kind == 'newline' else ''}, {len(text.splitlines())} lines, {n_diags} diagnostics: "
          f"open cpu {open_cpu:7.1f} ms (wall {open_wall:7.1f}); edit cpu median {statistics.median(cpu):6.1f} ms "
          f"(first {cpu[0]:6.1f}, min {min(cpu):6.1f}, wall median {statistics.median(wall):6.1f}) = "
          f"{statistics.median(cpu) / open_cpu * 100:.1f}% of the open; "
          f"chunks reused {getattr(chunks, 'reused', '-')}, composed {getattr(chunks, 'composed', '-')}", flush=True)
    if prof:
        st = pstats.Stats(prof)
        if profile != "-":
            st.dump_stats(f"{profile}.{gen}")
        st.sort_stats("cumulative").print_stats(top)
        st.sort_stats("tottime").print_stats(top)
    return statistics.median(cpu), open_cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", default="5000")
    ap.add_argument("--gen", default="both")
    ap.add_argument("--edits", type=int, default=5)
    ap.add_argument("--profile", default=None, help="cProfile the edits; FILE prefix for the stats, '-' for none")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--kind", default="value", choices=["value", "newline"],
                    help="value: a flag default changes (and back); newline: Enter at the end of that "
                         "line, each edit (every operation below moves down one line)")
    args = ap.parse_args()
    gens = list(GENERATORS) if args.gen == "both" else [args.gen]
    for n in (int(s) for s in args.ops.split(",")):
        for g in gens:
            run(g, n, args.edits, args.profile, args.top, args.kind)
            gc.collect()


if __name__ == "__main__":
    main()
