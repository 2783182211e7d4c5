"""RSS of `guildls serve` while one document is edited: after 100 edits and after
5,000 (incremental edits, each followed by the debounced check, as typing does).

    python bench/edit_memory.py [--edits 5000] [--ops 200]
"""

import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.fuzz.rawclient import RawClient  # noqa: E402


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edits", type=int, default=5000)
    ap.add_argument("--ops", type=int, default=200)
    ap.add_argument("--trace", action="store_true",
                    help="run the server under tracemalloc and print the allocations that grew "
                         "from 100 edits to the last (slow: figures are not RSS then)")
    args = ap.parse_args()
    text = "".join(f"op{i}:\n  main: m\n  flags: {{lr: 0.1}}\n" for i in range(args.ops)) + "wf:\n  steps: [op0]\n"
    env = {"GUILDLS_TEST_COMMANDS": "1"}
    if args.trace:
        env["PYTHONTRACEMALLOC"] = "12"
    c = RawClient(env=env)
    tmp = tempfile.mkdtemp(prefix="guildls-mem-")
    snaps = {}
    c.initialize()
    uri = "file:///tmp/guildls-bench-mem/guild.yml"
    c.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}})
    line = text.count("\n") - 1  # "  steps: [op0]"
    marks = {}
    for v in range(2, args.edits + 2):
        # type one character at the end of the step name, then delete it: alternating texts
        if v % 2 == 0:
            ch = {"range": {"start": {"line": line, "character": 13}, "end": {"line": line, "character": 13}}, "text": "x"}
        else:
            ch = {"range": {"start": {"line": line, "character": 13}, "end": {"line": line, "character": 14}}, "text": ""}
        c.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": v}, "contentChanges": [ch]})
        # a request after each edit: the server has handled the edit (and its check) by then
        c.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": line, "character": 11}})
        n = v - 1
        if n in (100, 1000, 2000, 3000, 4000, 5000) or n == args.edits:
            marks[n] = rss_kb(c.proc.pid)
            print(f"after {n} edits: RSS {marks[n] / 1024:.1f} MB", flush=True)
            if args.trace and (n == 100 or n == args.edits):
                snaps[n] = c.request("workspace/executeCommand", {"command": "guildls._memorySnapshot",
                                                                  "arguments": [os.path.join(tmp, f"{n}.snap")]},
                                     timeout=600)["result"]
    c.close()
    if len(snaps) == 2:
        import tracemalloc

        a, b = (tracemalloc.Snapshot.load(snaps[k]) for k in sorted(snaps))
        for key in ("lineno", "traceback"):
            print(f"-- grew most ({key}):")
            for st in b.compare_to(a, key)[:12]:
                print(f"{st.size_diff / 1024:+9.1f} KiB {st.count_diff:+7d} blocks  ", end="")
                print("\n      ".join(st.traceback.format()[-12:]) if key == "traceback" else st.traceback.format()[-1].strip())
    shutil.rmtree(tmp, ignore_errors=True)
    if 100 in marks:
        last = max(marks)
        print(f"growth from 100 to {last} edits: {(marks[last] - marks[100]) / 1024:+.2f} MB")


if __name__ == "__main__":
    main()
