"""The guildls .vsix in real VS Code: code-server 4.100.3 (VS Code 1.100.3,
from the npm registry) in headless Debian Chromium, driven by playwright-core.

Installs what it needs into ~/.cache/guildls-e2e (GUILDLS_E2E_CACHE; reused
when present) with ../shared/tools/real-clients/install_code_server.sh, and
skips, saying why, only when that cannot happen (no apt-get and no chromium,
npm registry unreachable). Builds the .vsix with `make vsix`, then:
  - test_shared_probe: the shared harness vscode_web_probe.sh (squiggle, code
    lens, Problems, hover, completion, a "Run" lens click -> notification);
  - test_run_workflow: vscode_e2e.js (planted error in Problems, "Run workflow"
    lens -> progress notification with Cancel + the run's output channel,
    "Show plan", Guild: Run Workflow on a slow operation cancelled from its
    notification, status bar; cold start over 3 window reloads, printed);
  - test_untrusted_workspace_refuses_runs: Restricted Mode refuses runs and
    says why; a broken plain YAML file stays YAML;
  - test_bad_interpreter_is_reported: missing / too old guildls.python.
Screenshots, result.json and the extension host logs go to test-output/vscode*/.
The language server is the bundled one (python3 + python/guildls_launcher.py +
bundled/libs): what a user of the .vsix gets.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from realclients_util import (CACHE, REPO, HERE, apt_install, check_server, line_of, make_workspace, npm_registry_reachable,
                      say, shared_tools, wait_until)

CS = CACHE / "cs" / "node_modules" / ".bin" / "code-server"
PW = CACHE / "tools" / "node_modules"
COLD_START_GOAL_MS = 1500


def _install_code_server(tools: Path) -> None:
    """Run install_code_server.sh into CACHE, serialized with a file lock (several
    test runs on one machine share the cache). A failed native rebuild leaves a
    half-built tree that a second run over it does not mend (seen: node-gyp's
    `lstat build/node_gyp_bins` after a failed build), so a failure wipes the
    code-server part and tries once more from scratch."""
    import fcntl
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if CS.exists() and (PW / "playwright-core").exists() and shutil.which("chromium"):
            return  # another run installed it while we waited
        say(f"installing code-server + chromium + playwright-core into {CACHE} (a few minutes)")
        logs = []
        for attempt in (1, 2):
            r = subprocess.run(["sh", str(tools / "install_code_server.sh"), str(CACHE)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=2400)
            logs.append(f"--- attempt {attempt}: exit {r.returncode}\n{r.stdout}")
            (CACHE / "install.log").write_text("\n".join(logs))
            if r.returncode == 0 and CS.exists():
                return
            say(f"install_code_server.sh failed (exit {r.returncode}, attempt {attempt}); "
                f"wiping {CACHE / 'cs'} and trying again" if attempt == 1 else "install failed again")
            shutil.rmtree(CACHE / "cs", ignore_errors=True)
        pytest.fail(f"install_code_server.sh failed twice, log in {CACHE}/install.log:\n{r.stdout[-3000:]}")


@pytest.fixture(scope="module")
def code_server() -> Path:
    tools = shared_tools()
    if not (CS.exists() and (PW / "playwright-core").exists() and shutil.which("chromium")):
        if not shutil.which("apt-get") and not shutil.which("chromium"):
            pytest.skip("no chromium and no apt-get to install it")
        if not npm_registry_reachable():
            pytest.skip("the npm registry is not reachable (`npm ping` failed): cannot install code-server")
        _install_code_server(tools)
    apt_install("chromium", binary="chromium")
    return CS


@pytest.fixture(scope="module")
def vsix() -> Path:
    r = subprocess.run(["make", "vsix"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=1200)
    if r.returncode != 0:
        pytest.fail(f"make vsix failed:\n{r.stdout[-4000:]}")
    version = json.loads((REPO / "client-vscode" / "package.json").read_text())["version"]
    target = subprocess.run([sys.executable, str(REPO / "client-vscode" / "scripts" / "bundle_python.py"),
                             "--local-target"], stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
    path = REPO / "client-vscode" / f"guildls-{version}-{target}.vsix"
    assert path.exists(), r.stdout[-2000:]
    # the server the .vsix runs: python3 + the launcher + bundled/libs must answer
    # initialize, also without site-packages (-S): the bundle is complete
    launcher = REPO / "client-vscode" / "python" / "guildls_launcher.py"
    if user_settings({}).get("guildls.importStrategy") == "fromEnvironment":
        check_server(user_settings({}).get("guildls.python") or "python3", dict(os.environ))
    else:
        check_server(["python3", "-S", str(launcher), "serve"], dict(os.environ))
    say((REPO / "client-vscode" / "bundled" / "libs" / "bundle.json").read_text().strip())
    say(f"built {path.name} ({path.stat().st_size // 1024} KiB)")
    return path


def user_settings(extra: dict) -> dict:
    s = {
        "workbench.startupEditor": "none", "workbench.tips.enabled": False,
        "security.workspace.trust.enabled": False, "telemetry.telemetryLevel": "off",
        "extensions.autoCheckUpdates": False, "extensions.autoUpdate": False,
        "update.mode": "none", "editor.codeLens": True, "workbench.colorTheme": "Default Light Modern",
        "git.enabled": False, "chat.disableAIFeatures": True, "workbench.secondarySideBar.defaultVisibility": "hidden",
        "output.smartScroll.enabled": True,
    }
    s.update(extra)
    if os.environ.get("GUILDLS_E2E_SETTINGS"):  # developer override, e.g. another guildls.python
        s.update(json.loads(Path(os.environ["GUILDLS_E2E_SETTINGS"]).read_text()))
    return s


class CodeServer:
    """code-server on a free loopback port with a fresh profile and the .vsix installed."""

    def __init__(self, vsix: Path, workspace: Path, out: Path, settings: dict, trust: bool = True):
        self.tmp = Path(tempfile.mkdtemp(prefix="guildls-cs-"))
        self.user = self.tmp / "user"
        self.ext = self.tmp / "ext"
        (self.user / "User").mkdir(parents=True)
        self.ext.mkdir()
        (self.user / "User" / "settings.json").write_text(json.dumps(user_settings(settings), indent=2))
        self.env = dict(os.environ, XDG_CONFIG_HOME=str(self.tmp / "xdg-config"),
                        XDG_DATA_HOME=str(self.tmp / "xdg-data"), XDG_CACHE_HOME=str(self.tmp / "xdg-cache"))
        self.out, self.workspace = out, workspace
        r = subprocess.run([str(CS), "--user-data-dir", str(self.user), "--extensions-dir", str(self.ext),
                            "--install-extension", str(vsix)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, env=self.env, timeout=300)
        assert r.returncode == 0 and "successfully installed" in r.stdout.lower(), r.stdout
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.log = open(self.tmp / "code-server.log", "w")
        self.proc = subprocess.Popen(
            [str(CS), "--auth", "none", "--bind-addr", f"127.0.0.1:{self.port}", "--disable-telemetry",
             "--disable-update-check", *(["--disable-workspace-trust"] if trust else []),
             "--disable-getting-started-override",
             "--user-data-dir", str(self.user), "--extensions-dir", str(self.ext), str(workspace)],
            stdout=self.log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)

        def up():
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status == 200
            except OSError:
                return False
        assert wait_until(up, 60), (self.tmp / "code-server.log").read_text()[-3000:]
        self.url = f"http://127.0.0.1:{self.port}"

    def logs(self) -> list:
        return sorted(p for p in self.user.glob("logs/**/*.log") if p.is_file())

    def close(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            if wait_until(lambda: self.proc.poll() is not None, 5) is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        self.log.close()
        logdir = self.out / "logs"
        logdir.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.tmp / "code-server.log", logdir)
        for p in self.logs():
            if "exthost" in str(p) or "guildls" in str(p):
                shutil.copy(p, logdir / "_".join(p.relative_to(self.user / "logs").parts[1:]).replace(" ", "_"))
        shutil.rmtree(self.tmp, ignore_errors=True)


def node_env() -> dict:
    return dict(os.environ, NODE_PATH=str(PW))


def test_shared_probe(code_server, vsix, out_root, tmp_path):
    """The shared harness against the .vsix: diagnostics, code lens, hover,
    completion, and a click on the first "Run" lens (prepare-data) -> progress."""
    tools = shared_tools()
    ws = tmp_path / "seed"
    w = make_workspace(ws)
    main_line = line_of(w["path"], r"^  main: ")  # hover + completion on the first `main:`
    out = out_root / "vscode-probe"
    shutil.rmtree(out, ignore_errors=True)
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps(user_settings({})))
    env = dict(node_env(), REAL_CLIENTS_PREFIX=str(CACHE), PLAYWRIGHT_NODE_PATH=str(PW),
               PROBE_LENS="Run", PROBE_EXPECT_MESSAGE="guild run|step|running", PROBE_TIMEOUT_MS="60000")
    r = subprocess.run([str(tools / "vscode_web_probe.sh"), str(vsix), str(ws), "guild.yml", str(main_line + 1), "4",
                        str(out), str(settings)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env=env, timeout=600)
    print(r.stdout[-4000:])
    res = json.loads((out / "result.json").read_text())
    say(f"shared probe: timings {res['timings_ms']}; lenses {res.get('code_lenses')}; "
        f"problems {res.get('problems')}; notifications {res.get('notifications')}; errors {res['errors']}")
    assert res.get("squiggles", 0) >= 1
    # the first operation's "Run" lens is in view (the workflow's is further down)
    assert "Run" in (res.get("code_lenses") or [])
    assert any("no-such-attribute" in p for p in res.get("problems") or []), res.get("problems")
    assert res.get("completion"), "no completion items"
    assert "main" in " ".join(res.get("hover_all") or [res.get("hover") or ""]), res.get("hover_all")
    assert res["errors"] == [], res["errors"]


def test_run_workflow(code_server, vsix, out_root, tmp_path):
    """Planted error -> squiggle + Problems; "Run workflow" lens -> progress
    notification + the run's output channel + status bar; Guild: Run Workflow on a slow op, cancelled from the
    notification; cold start after a window reload."""
    ws = tmp_path / "seed"
    w = make_workspace(ws, near_workflow=True)
    planted = w["planted"]
    out = out_root / "vscode"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cs = CodeServer(vsix, ws, out, {})
    try:
        r = subprocess.run(["node", str(HERE / "vscode_e2e.js"), "--url", cs.url, "--folder", str(ws),
                            "--file", "guild.yml", "--out", str(out), "--planted-line", str(planted),
                            "--slow-line", str(w["slow"]), "--workflow-line", str(w["workflow"])],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=node_env(), timeout=900)
        print(r.stdout[-4000:])
        cold = []
        for p in cs.logs():
            for line in p.read_text(errors="replace").splitlines():
                if "cold start:" in line:
                    cold.append(line.split("cold start:", 1)[1].strip())
    finally:
        cs.close()
    res = json.loads((out / "result.json").read_text())
    steps = res["steps"]
    say("vscode e2e: timings " + json.dumps(res["timings_ms"]))
    for k in ("code_lenses", "problems", "progress_texts", "status_bar_ready", "status_bar_running",
              "status_bar_after_run", "toasts_after_run", "output_channel", "status_bar_slow",
              "status_bar_after_cancel", "status_bar_after_reload", "plan_tab", "plan_text"):
        say(f"  {k}: {steps.get(k)}")
    say("  run output:\n    " + "\n    ".join(steps.get("run_output") or []))
    say("  cancelled run output:\n    " + "\n    ".join((steps.get("cancel_output") or [])[-6:]))
    for i, c in enumerate(cold):
        say(f"COLD START ({'first start after install' if i == 0 else f'window reload {i}'}): {c}")
    assert res["errors"] == [], res["errors"]
    # the planted error, where it was planted (Problems rows read "... [Ln N, Col M]")
    assert any("no-such-attribute" in p and f"Ln {planted + 1}" in p for p in steps["problems"]), steps["problems"]
    assert "Run workflow" in steps["code_lenses"]
    assert any(re.search(r"step \d+ of \d+", t) for t in steps.get("progress_texts") or []), steps.get("progress_texts")
    out_text = "\n".join(steps["run_output"])
    assert re.search(r"running \S+", out_text), out_text
    assert re.search(r"^■ end-to-end completed", out_text, re.M), out_text
    # (the seed workflow takes well under a second: the running status bar is checked on `slow` below)
    assert any("Guild: slow" in s for s in steps.get("status_bar_slow") or []), steps.get("status_bar_slow")
    cancel_text = "\n".join(steps.get("cancel_output") or [])
    assert re.search(r"^■ slow (stopped|terminated|cancel+ed)", cancel_text, re.M), cancel_text
    assert not any("Guild: slow" in s for s in steps.get("status_bar_after_cancel") or [])
    assert len(cold) >= 2, f"cold start lines in the extension log: {cold}"
    reloads = sorted(int(re.search(r"activation → first diagnostics (\d+) ms", c).group(1)) for c in cold[1:])
    median = reloads[len(reloads) // 2]
    say(f"cold start (activation → first diagnostics, guild.yml open at activation, {len(reloads)} window reloads): "
        f"median {median} ms, all {reloads}; goal < {COLD_START_GOAL_MS} ms{'' if median < COLD_START_GOAL_MS else ' (MISSED)'}")


def drive(script: str, cs: "CodeServer", args: list, out: Path, timeout: int, tag: str) -> dict:
    """Run the playwright driver SCRIPT against CS (closed afterwards), print the tail of
    its output, note every step it recorded under TAG; its result.json."""
    try:
        r = subprocess.run(["node", str(HERE / script), "--url", cs.url, "--out", str(out), *args],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=node_env(), timeout=timeout)
        print(r.stdout[-4000:])
    finally:
        cs.close()
    res = json.loads((out / "result.json").read_text())
    for k, v in res["steps"].items():
        say(f"  {tag} {k}: {json.dumps(v, ensure_ascii=False)[:600]}")
    return res


def run_scenario(name, vsix, out_root, tmp_path, settings, trust=True, name_suffix="",
                 extra_yaml="", prepare=None) -> dict:
    ws = tmp_path / "seed"
    w = make_workspace(ws, near_workflow=True)
    if extra_yaml:  # an operation appended to guild.yml: the scenario runs that one
        text = w["path"].read_text()
        text += "" if text.endswith("\n") else "\n"
        w["workflow"] = len(text.splitlines())
        w["path"].write_text(text + extra_yaml)
    if prepare is not None:
        prepare(ws)
    out = out_root / f"vscode-{name}{'-' + name_suffix if name_suffix else ''}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cs = CodeServer(vsix, ws, out, settings, trust=trust)
    res = drive("vscode_e2e.js", cs, ["--folder", str(ws), "--file", "guild.yml", "--scenario", name,
                                      "--workflow-line", str(w["workflow"]), "--timeout", "30000"], out, 600, f"vscode {name}")
    assert res["errors"] == [], res["errors"]
    return res["steps"]


def test_untrusted_workspace_refuses_runs(code_server, vsix, out_root, tmp_path):
    """Restricted Mode: the server still analyses, a "Run workflow" click is
    refused with the reason. Also: a plain YAML file is left alone, and the
    interpreter `guildls.python` names, which lives in the workspace (a `.venv` the
    Python extension could have picked), is never run: the bundled server runs on
    the system Python, and the language status hover says so."""
    marker = tmp_path / "workspace-python-ran"

    def plant_interpreter(ws):
        py = ws / ".venv" / "bin" / "python"
        py.parent.mkdir(parents=True)
        # would work as an interpreter (so a run of it cannot go unnoticed by failing)
        py.write_text(f"#!/bin/sh\necho \"$@\" >> '{marker}'\nexec python3 \"$@\"\n")
        py.chmod(0o755)
        planted["python"] = str(py)

    planted = {}
    settings = {"security.workspace.trust.enabled": True, "security.workspace.trust.startupPrompt": "never",
                "security.workspace.trust.banner": "never"}
    ws_python = str(tmp_path / "seed" / ".venv" / "bin" / "python")
    steps = run_scenario("untrusted", vsix, out_root, tmp_path, {**settings, "guildls.python": ws_python},
                         trust=False, prepare=plant_interpreter)
    assert planted["python"] == ws_python
    assert not marker.exists(), f"the workspace's interpreter was run: {marker.read_text()!r}"
    assert steps["squiggle"], "no diagnostics in Restricted Mode"
    assert "untrusted workspace" in steps["status_hover"] and "bundled guildls" in steps["status_hover"], \
        steps["status_hover"]
    assert steps["restricted_mode"], "the window is not in Restricted Mode"
    assert "not trusted" in steps["refusal"] and "end-to-end" in steps["refusal"], steps["refusal"]
    assert "Manage Workspace Trust" in steps["refusal_buttons"], steps["refusal_buttons"]
    assert not any(c.startswith("Guild Run") for c in steps["run_channels"]), steps["run_channels"]
    # other.yml (broken YAML beside guild.yml) stays YAML: guildls does not take it
    assert steps["other_yaml_mode"] == "YAML", steps["other_yaml_mode"]
    assert steps["other_yaml_squiggles"] == 0


@pytest.mark.parametrize("case", ["missing", "too-old"])
def test_bad_interpreter_is_reported(case, code_server, vsix, out_root, tmp_path):
    """guildls.python names no interpreter, or a Python 3.8: a notification says
    so; its "Open Setting" button opens the setting."""
    if case == "missing":
        python, expect = "/nonexistent/bin/python3", "was not found"
    else:
        fake = tmp_path / "python3.8"  # answers the version check like a Python 3.8 would
        fake.write_text("#!/bin/sh\necho 3.8.18\necho " + str(fake) + "\n")
        fake.chmod(0o755)
        python, expect = str(fake), "is Python 3.8.18, too old"
    steps = run_scenario("nopython", vsix, out_root, tmp_path, {"guildls.python": python}, name_suffix=case)
    assert python in steps["notification"] and expect in steps["notification"], steps["notification"]
    assert "3.9" in steps["notification"]
    assert any("error" in s.lower() for s in steps["status_bar"]), steps["status_bar"]
    assert steps["setting_shown"], steps.get("setting_text")


def _plant_strange_runs(ws: Path) -> str:
    """A runs directory as users have them: a run whose records are damaged, junk files, a
    run still being created. Returns the damaged run's short id (the view lists it)."""
    from guildls import runs as R

    root = R.runs_dir(str(ws))
    os.makedirs(root, exist_ok=True)
    bad = R.create_run(root)
    bad.write_opref("garbage 'unclosed")
    for name, text in (("flags", "{unclosed: ["), ("label", "<b>damaged</b>")):
        with open(bad.guild_path("attrs", name), "w") as f:
            f.write(text)
    with open(os.path.join(bad.path, "events.out.tfevents.1.h.1.0"), "wb") as f:
        f.write(b"\x00\x01junk, not a record")
    (Path(root) / "notes.txt").write_text("not a run")
    (Path(root) / ("a" * 32)).mkdir()
    return bad.id[:8]


def test_runs_views(code_server, vsix, out_root, tmp_path):
    """Issue 8 in real VS Code: "Show graph" lens -> the workflow graph, whose 3
    step nodes turn completed while the workflow (run from its lens) goes; the
    Guild Runs view shows the workflow run and its 3 step runs; "Run with
    flags…" shows the server's message on a bad value and runs epochs=3;
    Compare of the two workflow runs has epochs, lr and accuracy columns; a
    label that looks like HTML shows as text; Plots draws one series per run;
    after a window reload, Show Output of a past run shows its recorded output."""
    ws = tmp_path / "seed"
    w = make_workspace(ws, plant=False)
    out = out_root / "vscode-runs"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    broken = _plant_strange_runs(ws)
    # the bundled server, as users run it (its protobuf reads the runs' scalars)
    cs = CodeServer(vsix, ws, out, {"workbench.colorTheme": "Default Dark Modern"})
    res = drive("vscode_e2e.js", cs, ["--folder", str(ws), "--file", "guild.yml", "--scenario", "runs",
                                      "--workflow-line", str(w["workflow"]), "--train-line", str(w["train"]),
                                      "--width", "1440", "--height", "900"], out, 1200, "runs")
    steps = res["steps"]
    assert res["errors"] == [], res["errors"]
    csp = [m for m in res["console_errors"] if "Content Security Policy" in m or "Refused to" in m]
    assert not csp, csp
    # lenses beside the server's: Run with flags…, Show graph
    assert any("Run with flags" in t for t in steps["workflow_lenses"]), steps["workflow_lenses"]
    assert any("Show graph" in t for t in steps["workflow_lenses"]), steps["workflow_lenses"]
    # the graph: 3 step nodes, each seen completed after the run
    step_nodes = [n for n in steps["graph_nodes"] if "kind-step" in (n["cls"] or "")]
    assert len(step_nodes) == 3, steps["graph_nodes"]
    seen = steps["graph_seen"] or {}
    for n in step_nodes:
        assert seen.get(n["id"], [])[-1:] == ["completed"], (n, seen)
        assert len(seen[n["id"]]) >= 2, f"{n['id']} never changed colour during the run: {seen[n['id']]}"
    # the Runs view: workflow run, its 3 step runs under it, completed
    rows = steps["runs_rows_after_first"]
    top = next(i for i, r in enumerate(rows) if r["level"] == 1 and r["desc"].startswith("end-to-end"))
    kids = [r["desc"].split(" · ")[0] for r in rows[top + 1:top + 4]]
    # the damaged run planted beforehand is listed as what it is (no view broke on it)
    assert any(r["label"].startswith(broken) for r in rows), rows
    assert kids == ["prepare-data", "train", "test"], rows
    assert all("pass" in r["icon"] for r in rows[top:top + 4]), rows
    # the run is over for the status bar too (several modules listen to runFinished)
    assert not any("end-to-end" in t for t in steps["status_bar_after_first"]), steps["status_bar_after_first"]
    # Run with flags: pre-filled; a bad value refused with the server's words
    assert "epochs=2" in steps["train_flags_prefill"] and "lr=0.1" in steps["train_flags_prefill"], steps["train_flags_prefill"]
    assert "epochs" in steps["bad_flag_message"] and "abc" in steps["bad_flag_message"], steps["bad_flag_message"]
    assert steps["bad_flag_refused"].startswith("Not run:") and "abc" in steps["bad_flag_refused"], steps["bad_flag_refused"]
    assert steps["bad_flag_box_still_open"]
    assert "epochs=2" in steps["workflow_flags_prefill"], steps["workflow_flags_prefill"]
    # Compare: flag and scalar columns for the two runs, epochs differs
    heads = [h.replace("▲", "").replace("▼", "").strip() for h in steps["compare_headers"]]
    assert {"epochs", "lr", "accuracy"} <= set(heads), heads
    assert len(steps["compare_rows"]) == 2, steps["compare_rows"]
    assert any(d.startswith("epochs") for d in steps["compare_differs"]), steps["compare_differs"]
    assert steps["compare_sorted_epochs"] == ["2", "3"], steps["compare_sorted_epochs"]
    # the HTML-looking label is text: no element made of it, no alert
    assert "<img src=x onerror=alert(1)>" in steps["compare_labels"], steps["compare_labels"]
    assert steps["compare_img_elements"] == 0
    assert any("<img src=x onerror=alert(1)>" in t for t in steps["tree_labels"]), steps["tree_labels"]
    assert steps["dialogs"] == []
    # Plots: one series per run in each chart
    assert steps["plots"], "no charts"
    loss = [c for c in steps["plots"] if c["key"] == "loss"]
    assert loss and len(loss[0]["series"]) == 2, steps["plots"]
    # the seed's train logs loss at 5 steps per epoch: lines of 10 and 15 points (epochs 2, 3)
    assert sorted(loss[0]["points"]) == [10, 15], steps["plots"]
    # Show Output after a reload: the run's recorded output
    assert "train" in steps["output_tab"], steps["output_tab"]
    assert any("loss:" in ln for ln in steps["output_text"]), steps["output_text"]
    # Rerun (a new train run on top), Open Run Folder (revealed in the Explorer), Delete (confirmed)
    assert steps["rerun_rows"], "the rerun of train did not show"
    assert steps["open_folder_revealed"], steps["open_folder_row"]
    assert "Delete run" in steps["delete_dialog"] and "trash" in steps["delete_dialog"], steps["delete_dialog"]
    assert steps["workflow_runs_after_cancel"] == steps["workflow_runs_before_delete"] == 2
    assert steps["workflow_runs_after_delete"] == 1


TYPING_TRAIN_PY = '''import argparse

p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1)
p.add_argument("--epochs", type=int, default=2)
args = p.parse_args()
print("loss: %f" % (args.lr / args.epochs))
'''


def test_typing_a_new_guild_file(code_server, vsix, out_root, tmp_path):
    """Issue 10: a new user types a guild.yml key by key (vscode_typing.js). The
    suggest widget opens on a typed letter (no Ctrl+Space, no trigger character),
    Enter after a key indents by 2, and `${lr}` typed through completion is exactly
    `${lr}` with the cursor after it."""
    ws = tmp_path / "typing"
    ws.mkdir()
    (ws / "train.py").write_text(TYPING_TRAIN_PY)
    # a second guild file with a problem: its squiggle says the server is up
    (ws / "prepare.guild.yml").write_text("prepare:\n  exec: python -c pass\n  no-such-attribute: 1\n")
    (ws / "guild.yml").write_text("")
    out = out_root / "vscode-typing"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    res = drive("vscode_typing.js", CodeServer(vsix, ws, out, {}), ["--folder", str(ws)], out, 900, "typing")
    steps = res["steps"]
    assert res["errors"] == [], res["errors"]
    # the widget opened on the letter `m` alone, listing the server's `main`
    assert any(row.startswith("main") for row in steps["suggest_on_letter"]), steps["suggest_on_letter"]
    assert any(row.startswith("train") for row in steps["modules_after_main"]), steps["modules_after_main"]
    assert steps["indent_after_key"] == 2 and steps["indent_in_flags"] == 4, steps
    assert "Spaces: 2" in steps["indentation_status"], steps["indentation_status"]
    assert steps["auto_closed"].endswith("--lr ${}"), steps["auto_closed"]
    assert any(row.startswith("lr") for row in steps["ref_suggestions"]), steps["ref_suggestions"]
    assert steps["exec_line"] == "  exec: python train.py --lr ${lr} --epochs 2", steps["exec_line"]
    assert [ln.rstrip() for ln in steps["document"] if ln.strip()] == [
        "train:", "  main: train", "  flags:", "    lr: 0.1", "  exec: python train.py --lr ${lr} --epochs 2"]


def test_dask_setting_reaches_the_server(code_server, vsix, out_root, tmp_path):
    """guildls.run.daskScheduler (and guildls.run.workers) go with every run: a batch workflow
    run with that address reaches the server, which says why the cluster cannot be used: the
    bundled guildls has no Dask (the optional extra), or nobody listens at the address."""
    steps = run_scenario("dask", vsix, out_root, tmp_path, {
        "guildls.run.daskScheduler": "tcp://127.0.0.1:9", "guildls.run.workers": 2},
        extra_yaml="sweep:\n  steps:\n    - train lr=[0.1,0.2]\n")
    out = "\n".join(steps["run_output"])
    assert "batch trials on the Dask cluster at tcp://127.0.0.1:9" in out, out
    assert ("cannot reach the Dask scheduler at tcp://127.0.0.1:9" in out
            or "needs Dask distributed, which is not installed: pip install 'guildls[dask]'" in out), out
    assert re.search(r"^■ sweep error \(exit code 1\)", out, re.M), out
    assert steps["stop_lens_after_run"] == 0, "a 'Stop (running)' lens stayed after the run ended"


def test_problems_past_what_vscode_shows(code_server, vsix, out_root, tmp_path):
    """A guild file with 1,500 more problems than VS Code shows: the server sends 1,000
    (the `guildls.maxDiagnostics` default), the last one saying how many more there are,
    so the Problems view says it rather than VS Code's own cut (which would count 1,001)."""
    flood = "flood:\n  exec: python -c pass\n" + "".join(f"  a{i}: 1\n" for i in range(1500))
    steps = run_scenario("cap", vsix, out_root, tmp_path, {}, extra_yaml=flood)
    counts = steps["problem_counts"]  # errors, warnings, infos as the status bar shows them
    assert sum(counts) == 1000 and len(counts) == 3 and counts[2] >= 1, counts
    assert re.search(r"[\d,]+ more problems are not shown: at most 1,000 diagnostics", steps["note_row"]), steps["note_row"]
