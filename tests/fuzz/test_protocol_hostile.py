"""Malformed requests and hostile files through the real protocol (a raw JSON-RPC
client over stdio): every request is answered, nothing pops up, nothing foreign is
echoed, and the server answers a trivial request afterwards."""

import os

import pytest

from .rawclient import RawClient

GOOD = "op:\n  main: x\n  flags: {lr: 0.1}\n"


@pytest.fixture
def raw(tmp_path):
    c = RawClient(cwd=str(tmp_path))
    assert c.initialize() is not None
    yield c
    c.close()


def _open(c, uri, text):
    c.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}})


def _alive(c, uri):
    r = c.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}})
    assert r is not None and "result" in r and r["result"] is not None, r


def test_invalid_params_get_an_error_and_no_popup(raw, tmp_path):
    uri = (tmp_path / "guild.yml").as_uri()
    _open(raw, uri, GOOD)
    pos = [{"line": -1, "character": 0}, {"line": 0, "character": 2 ** 40}, {"line": 2 ** 31, "character": 0},
           {"line": 0}, "nope", None]
    for method in ("textDocument/hover", "textDocument/completion", "textDocument/definition",
                   "textDocument/references", "textDocument/rename", "textDocument/prepareRename"):
        for p in pos:
            params = {"textDocument": {"uri": uri}, "position": p, "newName": "x",
                      "context": {"includeDeclaration": True}}
            r = raw.request(method, params)
            assert r is not None, f"no answer to {method} {p}"
            assert r.get("error", {}).get("code") == -32602, (method, p, r)
        r = raw.request(method, {"textDocument": {}, "position": {"line": 0, "character": 0}})
        assert r is not None and r["error"]["code"] == -32602
    # a notification with bad params: nobody to answer, but no popup either
    raw.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                          "contentChanges": [{"range": {"start": {"line": -3}}, "text": "x"}]})
    _alive(raw, uri)
    assert raw.popups() == []


def test_positions_past_the_end_are_answered(raw, tmp_path):
    uri = (tmp_path / "guild.yml").as_uri()
    _open(raw, uri, GOOD)
    for method in ("textDocument/hover", "textDocument/completion", "textDocument/definition",
                   "textDocument/references", "textDocument/prepareRename"):
        for line, ch in ((99, 0), (0, 999), (2 ** 31 - 1, 2 ** 31 - 1)):
            r = raw.request(method, {"textDocument": {"uri": uri}, "position": {"line": line, "character": ch},
                                     "context": {"includeDeclaration": True}})
            assert r is not None and ("result" in r or "error" in r), (method, line, r)
    _alive(raw, uri)
    assert raw.popups() == []


def test_stop_run_with_a_non_string_id(raw, tmp_path):
    for bad in ([1], {"a": 1}, 5, None):
        r = raw.request("workspace/executeCommand", {"command": "guildls.stopRun", "arguments": [{"runId": bad}]})
        assert r["error"]["code"] == -32602 and "runId" in r["error"]["message"], r
    r = raw.request("workspace/executeCommand", {"command": "guildls.stopRun", "arguments": [{"runId": "nope"}]})
    assert r["result"] == {"stopped": False}
    assert raw.popups() == []


def test_unopened_files_are_read_with_limits(raw, tmp_path):
    secret = tmp_path / "notes.txt"
    secret.write_text("TOP-SECRET-CONTENT: yes\n")
    (tmp_path / "zero").mkdir()
    os.symlink("/dev/zero", tmp_path / "zero" / "guild.yml")
    (tmp_path / "fifo").mkdir()
    os.mkfifo(tmp_path / "fifo" / "guild.yml")
    (tmp_path / "big").mkdir()
    with open(tmp_path / "big" / "guild.yml", "wb") as f:
        f.truncate(64 * 1024 * 1024)  # sparse: 64 MB of zeros, no disk used
    for target in (secret, tmp_path / "zero" / "guild.yml", tmp_path / "fifo" / "guild.yml",
                   tmp_path / "big" / "guild.yml"):
        uri = target.as_uri()
        for method, extra in (("textDocument/hover", {"position": {"line": 0, "character": 0}}),
                              ("textDocument/documentSymbol", {}),
                              ("textDocument/codeLens", {})):
            r = raw.request(method, {"textDocument": {"uri": uri}, **extra})
            assert r is not None and "TOP-SECRET" not in str(r), (target, method, r)
        r = raw.request("workspace/executeCommand",
                        {"command": "guildls.showPlan", "arguments": [{"uri": uri, "operation": "x"}]})
        assert r is not None and "TOP-SECRET" not in str(r), r
    uri = (tmp_path / "guild.yml").as_uri()
    _open(raw, uri, GOOD)
    _alive(raw, uri)
    assert raw.popups() == []


def test_server_text_equals_clients_after_incremental_edits(raw, tmp_path):
    import random

    from . import lspedits

    uri = (tmp_path / "guild.yml").as_uri()
    text = "op:\n  description: a\u2028b\u2029c\x85d\r\n  main: x\r  flags: {lr: 0.1}\nwf:\n  steps: [op]\n"
    _open(raw, uri, text)
    rnd = random.Random(2028)
    for version in range(2, 302):
        rng, new, text = lspedits.random_edit(rnd, text)
        raw.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": rng.start.line, "character": rng.start.character},
                                          "end": {"line": rng.end.line, "character": rng.end.character}},
                                "text": new}]})
        if version % 50 == 0:
            r = raw.request("workspace/executeCommand", {"command": "guildls._documentText", "arguments": [uri]})
            assert r["result"] == text, f"diverged after edit {version}"
    r = raw.request("workspace/executeCommand", {"command": "guildls._documentText", "arguments": [uri]})
    assert r["result"] == text


def _diagnostics_of(c, uri, start):
    """The first publishDiagnostics of `uri` after notification number `start` (waits)."""
    with c.cond:
        while True:
            for m in c.notifications[start:]:
                if m["method"] == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri:
                    return m["params"]["diagnostics"]
            assert c.proc.poll() is None, "the server died"
            assert c.cond.wait(300), f"no diagnostics for {uri}"


def test_every_hostile_shape_gets_diagnostics_and_the_server_answers_after(raw, tmp_path):
    from . import shapes

    triv = (tmp_path / "trivial" / "guild.yml").as_uri()
    _open(raw, triv, GOOD)
    for name, make in shapes.ALL.items():
        if name == "flow-mapping":
            continue  # 60,000 unknown attributes: schema checking speed (bench/hostile.py)
        uri = (tmp_path / name.replace(" ", "_") / "guild.yml").as_uri()
        start = len(raw.notifications)
        _open(raw, uri, make())
        diags = _diagnostics_of(raw, uri, start)
        if name.startswith("deep"):
            assert [d["code"] for d in diags] == ["yaml-syntax"], (name, diags)
            assert "nest" in diags[0]["message"], (name, diags)
        raw.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        _alive(raw, triv)
    assert raw.popups() == []


def test_editing_does_not_grow_the_servers_tables(tmp_path):
    # pygls 2 kept the future of every notification its generator handlers ran (didChange,
    # didOpen, ...) in `_request_futures`: one per keystroke, for good (bench/edit_memory.py)
    c = RawClient(cwd=str(tmp_path))
    try:
        c.initialize()
        uri = (tmp_path / "guild.yml").as_uri()
        _open(c, uri, GOOD)
        for v in range(2, 302):
            c.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": v}, "contentChanges": [
                {"range": {"start": {"line": 1, "character": 9}, "end": {"line": 1, "character": 9 + v % 2}},
                 "text": "" if v % 2 else "y"}]})
            if v % 50 == 0:
                c.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                 "position": {"line": 0, "character": 0}})
        got = c.request("workspace/executeCommand", {"command": "guildls._internals", "arguments": []})["result"]
        assert got["requestFutures"] <= 2, got  # (this request's own, at most)
        assert got["models"] <= 1 and got["diagnostics"] <= 1 and got["documents"] == 1, got
        assert got["tasks"] <= 5, got
    finally:
        c.close()
