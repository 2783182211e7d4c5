"""What start-up imports (bench/startup.py measures the time): `guildls check` needs no
protocol stack, and a new server imports the editing features and the run history on
their first request, not before its first diagnostics."""

import json
import subprocess
import sys

SMALL = "train:\n  main: train\n  flags: {lr: 0.1}\npipe:\n  steps: [train]\n"


def _modules(code, cwd):
    r = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"],
                       capture_output=True, text=True, cwd=cwd, timeout=300)
    assert r.returncode == 0, r.stderr
    return set(json.loads(r.stdout.strip().splitlines()[-1]))


def test_check_imports_no_protocol_stack_nor_editor_features(tmp_path):
    (tmp_path / "guild.yml").write_text(SMALL)
    mods = _modules("from guildls import cli\nassert cli._main(['check', 'guild.yml']) == 0", tmp_path)
    assert "guildls.analysis.diagnostics" in mods
    for m in ("lsprotocol", "pygls", "jsonschema", "guildls.lsp", "guildls.analysis.completion",
              "guildls.analysis.hover", "guildls.runs", "guildls.executor.runner"):
        assert m not in mods, m


def test_server_start_leaves_editor_features_and_runs_to_their_first_request(tmp_path):
    mods = _modules("from guildls.lsp import server\nserver.create_server()", tmp_path)
    assert "guildls.lsp.features" in mods and "guildls.analysis.diagnostics" in mods
    for m in ("guildls.analysis.completion", "guildls.analysis.hover", "guildls.analysis.navigation",
              "guildls.analysis.codeactions", "guildls.analysis.links", "guildls.runs", "guildls.runs.query",
              "guildls.executor.runner"):
        assert m not in mods, m
