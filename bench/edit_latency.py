"""Editing latency through the real protocol: completion, hover and definition.

Usage: python bench/edit_latency.py [--sizes 1000,5000] [--iterations 200] [--full]

For each size, a guild file of that many operations (flags, requires and workflows, from
bench/gen.py) is opened in `python -m guildls serve`, started over stdio and driven by a
pygls client. Each request type is sent `--iterations` times at positions spread over the
file; the median and 95th percentile of the round trip are printed. The reference, measured
in the same run, is the round trip of a trivial request (hover past the end of the
document: the server looks the model up and answers null), i.e. the cost of the
protocol itself. Goal: p95 under 30 ms at 1,000 operations.

The "server CPU" column is the language server's own CPU time per request (all its threads,
from /proc/PID/task/*/schedstat, Linux only; "-" elsewhere): unlike the round trip it does
not grow when other processes compete for the cores, so it says what a request costs the
server on a busy machine.
"""

import argparse
import asyncio
import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from lsprotocol import types  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402

from gen import guildfile  # noqa: E402

URI = "file:///tmp/guildls-bench/guild.yml"


def step_lines(text):
    """(line, text) of every string step `- opN lr=${lr} epochs=${epochs}`."""
    out = []
    for i, line in enumerate(text.split("\n")):
        if re.match(r" +- op\d+ lr=", line):
            out.append((i, line))
    return out


def server_cpu_ms(pid):
    """CPU time (ms) the process PID has used so far, all threads; None if unknown."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total / 1e6


def pct(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(p / 100.0 * len(values) + 0.5)) - 1))
    return values[k]


def requests(text):
    """name -> list of (method, params factory) over positions spread in the file."""
    doc = types.TextDocumentIdentifier(uri=URI)
    steps = step_lines(text)
    n_lines = text.count("\n") + 1
    out = {}

    def at(line, col):
        return dict(text_document=doc, position=types.Position(line, col))

    out["completion: step operation"] = [
        ("completion", types.CompletionParams(**at(ln, t.index("- op") + 4))) for ln, t in steps]  # after "- op"
    out["completion: flag names"] = [
        ("completion", types.CompletionParams(**at(ln, t.index(" lr=") + 1))) for ln, t in steps]
    out["completion: flag values"] = [
        ("completion", types.CompletionParams(**at(ln, t.index(" lr=") + 4))) for ln, t in steps]
    out["hover: step operation"] = [
        ("hover", types.HoverParams(**at(ln, t.index("- op") + 3))) for ln, t in steps]
    out["hover: flag assignment"] = [
        ("hover", types.HoverParams(**at(ln, t.index(" lr=") + 2))) for ln, t in steps]
    out["definition: step operation"] = [
        ("definition", types.DefinitionParams(**at(ln, t.index("- op") + 3))) for ln, t in steps]
    out["definition: ${ref}"] = [
        ("definition", types.DefinitionParams(**at(ln, t.index("${lr}") + 2))) for ln, t in steps]
    out["semantic tokens: whole file"] = [
        ("semtokens", types.SemanticTokensParams(text_document=doc)) for _ in steps]
    out["reference: trivial request"] = [
        ("hover", types.HoverParams(**at(n_lines + 10, 0))) for _ in steps]
    return out


async def send(client, method, params):
    if method == "completion":
        return await client.text_document_completion_async(params)
    if method == "hover":
        return await client.text_document_hover_async(params)
    if method == "semtokens":
        return await client.text_document_semantic_tokens_full_async(params)
    return await client.text_document_definition_async(params)


def full_format(text):
    """The same operations inside one `- model:` item of a full-format file."""
    body = "\n".join(("    " + line) if line else line for line in text.split("\n"))
    return "- model: m\n  operations:\n" + body


async def run_size(n_ops, iterations, full=False):
    text = guildfile(n_ops)
    if full:
        text = full_format(text)
    client = LanguageClient("guildls-bench", "1")

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def _diagnostics(params):
        pass

    await client.start_io(sys.executable, "-m", "guildls", "serve")
    pid = client._server.pid if getattr(client, "_server", None) is not None else None
    try:
        await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
        client.initialized(types.InitializedParams())
        t0 = time.perf_counter()
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=URI, language_id="yaml", version=1, text=text)))
        # the first request waits for the open (parse + diagnostics) to be handled
        await send(client, "hover", types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=URI), position=types.Position(0, 0)))
        t_open = time.perf_counter() - t0
        rows = []
        for name, reqs in requests(text).items():
            # sanity: the request answers something (except the trivial one)
            res = await send(client, *reqs[0])
            if name.startswith(("completion", "hover", "definition")) and not res:
                raise SystemExit(f"{name}: empty answer at {reqs[0][1].position}")
            for method, params in reqs[:5]:  # warm-up
                await send(client, method, params)
            times = []
            cpu0 = server_cpu_ms(pid)
            for i in range(iterations):
                method, params = reqs[(i * 7919) % len(reqs)]
                t = time.perf_counter()
                await send(client, method, params)
                times.append((time.perf_counter() - t) * 1000)
            cpu1 = server_cpu_ms(pid)
            cpu = (cpu1 - cpu0) / iterations if cpu0 is not None and cpu1 is not None else None
            size = len(res.items) if isinstance(res, types.CompletionList) else None
            rows.append((name, statistics.median(times), pct(times, 95), cpu, size))
        # typing: a change, then a completion (the first request after a change re-parses)
        reqs = requests(text)["completion: flag names"]
        times = []
        version = 1
        lines = text.split("\n")
        dline = next(i for i, t in enumerate(lines) if "description: Operation number" in t)
        for i in range(max(10, iterations // 10)):
            version += 1
            col = len(lines[dline]) + i  # type into a description
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=version),
                content_changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(dline, col), end=types.Position(dline, col)),
                    text="x")]))
            method, params = reqs[(i * 7919) % len(reqs)]
            t = time.perf_counter()
            res = await send(client, method, params)
            times.append((time.perf_counter() - t) * 1000)
            if not res or not res.items:
                raise SystemExit("completion after an edit: empty answer")
        rows.append(("completion after an edit (*)", statistics.median(times), pct(times, 95), None, None))
        await client.shutdown_async(None)
        client.exit(None)
    finally:
        await client.stop()
    return text, t_open, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,5000")
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--full", action="store_true",
                    help="also run the largest size as a full-format file (one model item)")
    args = ap.parse_args()
    print(f"Python {sys.version.split()[0]}; {args.iterations} requests per type; times in ms, "
          "client -> server -> client over stdio")
    sizes = [(int(s), False) for s in args.sizes.split(",")]
    if args.full:
        sizes.append((sizes[-1][0], True))
    for n, full in sizes:
        text, t_open, rows = asyncio.run(run_size(n, args.iterations, full))
        print()
        shape = "full format, one model" if full else "operation-only format"
        print(f"{n} operations ({shape}), {text.count(chr(10))} lines: open + first answer {t_open * 1000:.0f} ms")
        print(f"  {'request':<30} {'median':>8} {'p95':>8} {'server CPU':>11} {'items':>6}")
        for name, med, p95, cpu, size in rows:
            cpu_s = "-" if cpu is None else f"{cpu:.2f}"
            print(f"  {name:<30} {med:8.2f} {p95:8.2f} {cpu_s:>11} {'' if size is None else size:>6}")
    print()
    print("(*) the first request after a change; on documents over 3,000 lines completion answers from the\n"
          "    last parsed version while the new one is parsed after the typing pause (lsp/server.py)")


if __name__ == "__main__":
    main()
