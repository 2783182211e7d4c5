"""The server's model cache: replaced versions are freed at once, files not open in the
editor are read fresh (never cached)."""

import gc

from lsprotocol import types
from pygls.workspace import Workspace

from guildls.lsp.server import GuildServer

TEXT = "train:\n  exec: echo\n  flags: {lr: 0.1}\nwf:\n  steps: [train]\n"


def _server():
    ls = GuildServer()
    ls.protocol._workspace = Workspace(None)
    return ls


def test_replaced_versions_are_disposed_on_every_path(monkeypatch):
    from guildls.model.guildfile import Guildfile

    disposed = []
    real = Guildfile.dispose
    monkeypatch.setattr(Guildfile, "dispose", lambda self: (disposed.append(self), real(self)))
    ls = _server()
    uri = "file:///tmp/guildls-cache/guild.yml"
    ls.workspace.put_text_document(types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=TEXT))
    models = []
    for v in range(2, 12):
        # completion and the other requests both rebuild a changed (small) document
        getter = ls.guild_model_for_completion if v < 8 else ls.guild_model
        models.append(id(getter(uri)))
        ls.workspace.update_text_document(
            types.VersionedTextDocumentIdentifier(uri=uri, version=v),
            types.TextDocumentContentChangeWholeDocument(text=TEXT + f"x{v}: {{exec: echo}}\n"))
    ls.guild_model(uri)
    # every replaced version had its cycles broken (freed by reference counting)
    assert [id(m) for m in disposed] == models
    gc.unfreeze()


def test_documents_not_open_are_read_fresh(tmp_path):
    ls = _server()
    f = tmp_path / "guild.yml"
    f.write_text("train: {main: v1}\n")
    uri = f.as_uri()
    assert list(ls.guild_model(uri).models[""].operations) == ["train"]
    f.write_text("train: {main: v2}\nevaluate: {main: ev}\n")
    assert sorted(ls.guild_model(uri).models[""].operations) == ["evaluate", "train"]
    assert ls.guild_diagnostics(uri) == []
    assert ls.guild_model((tmp_path / "missing.yml").as_uri()) is None
