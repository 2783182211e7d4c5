"""The Python package as it would go to the package registry: `python -m build` makes a
wheel and an sdist (the wheel built from the sdist), `twine check` passes both, the
metadata carries the SPDX license and the classifiers, the schema JSON ships, and the
wheel installed into a fresh venv (no guildls source on the path) runs `guildls check`
on the oldest and the newest supported CPython found here."""
from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from packaging_util import REPO, interpreters


def run(cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=kw.pop("timeout", 900), **kw)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stdout[-5000:]}"
    return r.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", out, REPO])
    return out


def test_twine_check_and_metadata(dist):
    wheels, sdists = list(dist.glob("guildls-*.whl")), list(dist.glob("guildls-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, list(dist.iterdir())
    out = run([sys.executable, "-m", "twine", "check", "--strict", *wheels, *sdists])
    assert out.count("PASSED") == 2, out
    with zipfile.ZipFile(wheels[0]) as z:
        names = z.namelist()
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert wheels[0].name.endswith("-py3-none-any.whl")
    assert "guildls/schema/guildfile.schema.json" in names
    assert not [n for n in names if n.startswith(("tests/", "client-vscode/"))]
    assert "License-Expression: Apache-2.0" in meta
    assert "Requires-Python: >=3.9" in meta
    for minor in range(9, 15):
        assert f"Classifier: Programming Language :: Python :: 3.{minor}" in meta
    assert [n for n in names if n.endswith("licenses/LICENSE")]
    with tarfile.open(sdists[0]) as t:
        members = t.getnames()
    assert any(m.endswith("server/guildls/schema/guildfile.schema.json") for m in members)
    assert any(m.endswith("/LICENSE") for m in members)


FOUND = interpreters()
ENDS = sorted({min(FOUND), max(FOUND)})


@pytest.mark.parametrize("version", ENDS, ids=[f"py{a}.{b}" for a, b in ENDS])
def test_fresh_venv_install(dist, version, tmp_path):
    venv = tmp_path / "venv"
    run([FOUND[version], "-m", "venv", venv])
    bin_ = venv / ("Scripts" if sys.platform == "win32" else "bin")
    wheel = next(dist.glob("guildls-*.whl"))
    run([bin_ / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel])
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "guild.yml").write_text("train:\n  main: train\n  requires: 3\n")
    r = subprocess.run([bin_ / "guildls", "check", tmp_path / "w"], cwd=tmp_path, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=300)
    assert r.returncode == 1 and "invalid dependency value 3" in r.stdout, r.stdout
    r = subprocess.run([bin_ / "guildls", "check", REPO / "examples" / "seed"], cwd=tmp_path,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    assert r.returncode == 0, r.stdout
    schema = run([bin_ / "guildls", "schema"], cwd=tmp_path)
    assert '"$schema"' in schema
    where = run([bin_ / "python", "-c", "import guildls; print(guildls.__file__)"], cwd=tmp_path)
    assert str(venv) in where, where  # the installed copy, not the source tree
