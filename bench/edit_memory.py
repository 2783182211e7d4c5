"""RSS of `guildls serve` while one document is edited: after 100 edits and after
5,000 (incremental edits, each followed by the debounced check, as typing does).

    python bench/edit_memory.py [--edits 5000] [--ops 200]
"""

import argparse
import os
import sys

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
    args = ap.parse_args()
    text = "".join(f"op{i}:\n  main: m\n  flags: {{lr: 0.1}}\n" for i in range(args.ops)) + "wf:\n  steps: [op0]\n"
    c = RawClient(env={"GUILDLS_TEST_COMMANDS": "1"})
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
    c.close()
    if 100 in marks:
        last = max(marks)
        print(f"growth from 100 to {last} edits: {(marks[last] - marks[100]) / 1024:+.2f} MB")


if __name__ == "__main__":
    main()
