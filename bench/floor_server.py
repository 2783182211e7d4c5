"""The floor for change -> diagnostics through a real client (used by bench/nvim_edit.py).

A stdio language server with no pygls and no analysis on the edit path: on didOpen it
checks the document once with guildls (so that it publishes the very diagnostics guildls
publishes), and on every didChange it publishes that same list again at once, without
reading the change. What the client spends between its edit and the end of its handling of
the publish (sending the change, decoding and storing thousands of diagnostics) is then
all that is left: the part of guildls's change -> diagnostics figure no server can remove.
Other requests get an empty answer (Neovim 0.7 decodes a null result as no result and
would wait for one).
"""

import json
import os
import sys


def read_message(stream):
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return json.loads(stream.read(length)) if length is not None else {}


def send(out, payload):
    data = json.dumps(payload).encode("utf-8")
    out.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
    out.flush()


def diagnostics_of(uri, text):
    from guildls.analysis.diagnostics import diagnose
    from guildls.lsp.positions import Columns
    from guildls.lsp.server import diagnostic_json
    from guildls.model import load
    from pygls.uris import to_fs_path

    gf = load(text, to_fs_path(uri))
    cols = Columns(gf.lines, "utf-16")
    return [diagnostic_json(p, cols) for p in diagnose(gf)]


def main():
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    published = {}
    while True:
        msg = read_message(stdin)
        if msg is None:
            return
        method, params = msg.get("method"), msg.get("params") or {}
        if "id" in msg and method is not None:
            result = {"contents": ""} if method == "textDocument/hover" else []
            if method == "shutdown":
                result = None
            elif method == "initialize":
                result = {"capabilities": {"textDocumentSync": {"openClose": True, "change": 2},
                                          "completionProvider": {}, "hoverProvider": True},
                          "serverInfo": {"name": "floor", "version": "0"}}
            send(stdout, {"jsonrpc": "2.0", "id": msg["id"], "result": result})
        elif method == "exit":
            return
        elif method in ("textDocument/didOpen", "textDocument/didChange"):
            doc = params["textDocument"]
            uri = doc["uri"]
            if method == "textDocument/didOpen":
                # FLOOR_EMPTY=1: publish no diagnostics (what the edit alone costs the client)
                published[uri] = [] if os.environ.get("FLOOR_EMPTY") == "1" else diagnostics_of(uri, doc["text"])
            send(stdout, {"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics",
                          "params": {"uri": uri, "version": doc.get("version"), "diagnostics": published.get(uri, [])}})


if __name__ == "__main__":
    main()
