"""`guildls runs` / `guildls compare` import only what reading run records needs: with the
runs cached (`<guild home>/cache/guildls-runs.json`), no guild file model, language server,
schema validator, YAML or protobuf — their imports cost more than listing 1,000 runs."""

import json
import shutil
import subprocess
import sys

from runs_util import SEED, guildls

HEAVY = ("pygls", "lsprotocol", "jsonschema", "google.protobuf", "yaml", "guildls.model",
         "guildls.lsp", "guildls.executor", "guildls.analysis", "guildls.schema")

PROBE = """
import contextlib, io, json, sys
from guildls.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    rc = main(sys.argv[1:])
sys.stderr.write(json.dumps({"rc": rc, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def _probe(args, cwd, home):
    p = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=str(cwd), capture_output=True,
                       text=True, timeout=300, env={**__import__("os").environ, "GUILD_HOME": str(home)})
    got = json.loads(p.stderr.strip().splitlines()[-1])
    assert got["rc"] == 0, p.stderr
    return got


def test_runs_and_compare_import_only_the_reader(tmp_path):
    proj = tmp_path / "seed"
    shutil.copytree(SEED, proj, ignore=shutil.ignore_patterns(".guild"))
    home = tmp_path / "home"
    home.mkdir()
    guildls(["run", "end-to-end", "--yes"], proj, home)
    cold = _probe(["runs", "--format", "json"], proj, home)  # reads the runs, fills the cache
    assert "yaml" in cold["modules"]
    for args in (["runs", "--format", "json"], ["compare", "--format", "csv"], ["runs"]):
        warm = _probe(args, proj, home)
        heavy = sorted(m for m in warm["modules"] if m.split(".")[0] in HEAVY or m.startswith(HEAVY))
        assert heavy == [], (args, heavy)
    runs = json.loads(_probe(["runs", "--format", "json"], proj, home)["out"])
    assert runs == json.loads(cold["out"]) and len(runs) == 4
    assert runs[0]["scalars"]["accuracy"]["last"] == 1.0  # from the cache, without protobuf
