"""guildls in Neovim's built-in LSP client (Debian's neovim, headless), through
../shared/tools/real-clients/nvim_probe.sh: a copy of examples/seed with a
planted error; asserts the diagnostic, completion items and hover text, the
code lenses and that running one through vim.lsp.codelens.run() answers a runId.
Output: test-output/nvim/*.json (+ Neovim's lsp.log)."""
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from realclients_util import (REPO, apt_install, check_server, line_of, make_workspace, say,  # noqa: E402
                              shared_tools, venv_python)


def probe(tmp_path: Path, out: Path, gy: Path, line: int, col: int, **env) -> dict:
    tools = shared_tools()
    cmd = f"{venv_python()} -m guildls serve"
    # each step waits for its answer up to PROBE_TIMEOUT_MS (the harness's 15 s default is short
    # for a server starting on a busy machine); nvim_probe.sh ends Neovim after 6 of them + 20 s
    e = dict(os.environ, PROBE_LANGUAGE_ID="guild", PROBE_ROOT=str(gy.parent), PROBE_KEEP_LOG="1",
             PROBE_TIMEOUT_MS="60000", **env)
    r = subprocess.run([str(tools / "nvim_probe.sh"), cmd, str(gy), str(line), str(col), str(out)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=e, cwd=str(REPO), timeout=420)
    say(f"nvim_probe {out.name}: {r.stdout.strip()}")
    assert out.exists(), r.stdout
    return json.loads(out.read_text())


def test_nvim_diagnostics_completion_hover(out_root, tmp_path):
    apt_install("neovim", binary="nvim")
    check_server(venv_python(), dict(os.environ))
    out_dir = out_root / "nvim"
    out_dir.mkdir(exist_ok=True)
    ws = make_workspace(tmp_path / "seed")
    gy, planted = ws["path"], ws["planted"]

    # 1. the planted error + completion inside an operation (on the planted
    #    attribute's line, at its indentation) + code lenses and running one
    d = probe(tmp_path, out_dir / "planted.json", gy, planted, 2, PROBE_LENS_INDEX="1")
    diags = d.get("diagnostics") or []
    say(f"  diagnostics: {[(x['range']['start']['line'], x['message']) for x in diags]}")
    say(f"  completion ({(d.get('completion') or {}).get('count')}): {(d.get('completion') or {}).get('labels', [])[:12]}")
    say(f"  timings: {d.get('timings_ms')}")
    assert d["errors"] == [], d["errors"]
    planted_diags = [x for x in diags if x["range"]["start"]["line"] == planted]
    assert planted_diags, f"no diagnostic on line {planted}: {diags}"
    assert "no-such-attribute" in planted_diags[0]["message"]
    labels = (d.get("completion") or {}).get("labels") or []
    # attribute names an operation can still take (those already there are left out)
    assert {"requires", "sourcecode", "steps", "exec"} & set(labels), labels
    lenses = [(lens["command"]["title"], lens["command"]["command"]) for lens in d.get("codelens") or []]
    assert ("Run workflow", "guildls.runWorkflow") in lenses, lenses
    assert ("Show plan", "guildls.showPlan") in lenses, lenses
    assert "runId" in ((d.get("execute") or {}).get("result") or {}), d.get("execute")

    # 2. hover on an operation attribute: `main` of train
    main_line = line_of(gy, r"^  main: train")
    h = probe(tmp_path, out_dir / "hover.json", gy, main_line, 3, PROBE_SKIP="codelens,execute", PROBE_MIN_DIAGS="0")
    hover = h.get("hover")
    text = json.dumps(hover) if hover else ""
    say(f"  hover on line {main_line}: {text[:300]}")
    assert h["errors"] == [], h["errors"]
    assert hover and "main" in text.lower(), hover
