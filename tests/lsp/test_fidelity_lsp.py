"""Guild fidelity through the real protocol: cross-package cycles found from sibling
projects on disk, names YAML reads as booleans, run-time warnings, Guild's float rules."""

from lsprotocol import types
from pytest_lsp import LanguageClient

from .test_diagnostics_lsp import open_doc, wait_diags


async def test_cross_package_cycle_and_run_time_warnings(client: LanguageClient, tmp_path):
    client._guild_versions = {}
    (tmp_path / "cyc_b").mkdir()
    (tmp_path / "cyc_b" / "guild.yml").write_text("- model: model\n  extends: cyc-a/model\n")
    (tmp_path / "cyc_a").mkdir()
    path = tmp_path / "cyc_a" / "guild.yml"
    text = ("- model: model\n  extends: cyc-b/model\n"
            "- model: w\n  operations:\n"
            "    prep: {exec: 'touch d'}\n"
            "    train: {exec: ls, requires: [{operation: prep}], flags: {on: 1, x: 2}}\n"
            "    wf: {steps: [train]}\n")
    path.write_text(text)
    uri = path.as_uri()
    open_doc(client, text, uri=uri)
    diags = await wait_diags(client, uri, 1, timeout=30)
    got = {(d.code, d.severity, d.range.start.line): d.message for d in diags}
    assert got[("extends-cycle", types.DiagnosticSeverity.Error, 1)] == \
        "cycle in 'extends' (cyc-b/model -> cyc-a/model -> cyc-b/model)"
    msg = got[("non-string-key", types.DiagnosticSeverity.Error, 5)]
    assert "YAML reads flag name on as the boolean true" in msg and "'on'" in msg
    msg = got[("unresolved-dependency", types.DiagnosticSeverity.Warning, 6)]
    assert "step 'train'" in msg and "no suitable run for prep" in msg


async def test_hover_shows_guilds_float(client: LanguageClient, tmp_path):
    client._guild_versions = {}
    path = tmp_path / "guild.yml"
    text = "train:\n  main: t\n  flags:\n    lr: 1e-3\n"
    path.write_text(text)
    uri = path.as_uri()
    open_doc(client, text, uri=uri)
    await wait_diags(client, uri, 1, timeout=30)
    h = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(3, 5)))
    assert h is not None, h
    shown = h.contents if isinstance(h.contents, str) else h.contents.value
    assert "type: `float`" in shown and "default: `0.001`" in shown and "1e-3" not in shown, shown
