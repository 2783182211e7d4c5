"""Every real guild file Guild accepts checks without errors; every rejected one gets one."""

import csv
import os

import pytest

from guildls.analysis.diagnostics import diagnose
from guildls.model import load_path

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "corpus", "real"))
MANIFEST = os.path.join(CORPUS, "MANIFEST.tsv")


def _rows():
    if not os.path.exists(MANIFEST):
        raise RuntimeError(f"corpus not found at {CORPUS}: ../shared must sit beside the repository")
    with open(MANIFEST, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


ROWS = _rows()

# Cross-package cycles: Guild reports them once the sibling packages are on sys.path (as
# its own tests arrange); guildls finds sibling projects, so it reports Guild's error.
CROSS_PACKAGE_CYCLES = {
    "guildai__guildai/guild/tests/samples/projects/cross-package-inherits/cycle_a/guild.yml":
        "cycle in 'extends' (cycle_b/model -> cycle_a/model -> cycle_b/model)",
    "guildai__guildai/guild/tests/samples/projects/cross-package-inherits/cycle_b/guild.yml":
        "cycle in 'extends' (cycle_a/model -> cycle_b/model -> cycle_a/model)",
}


def test_corpus_is_complete():
    assert len(ROWS) == 306
    assert sum(r["expected"] == "ok" for r in ROWS) == 284


@pytest.mark.parametrize("row", [r for r in ROWS if r["expected"] == "ok"], ids=lambda r: r["file"])
def test_ok_files_have_no_errors(row):
    gf = load_path(os.path.join(CORPUS, row["file"]))
    errors = [(p.range.start_line + 1, p.code, p.message) for p in diagnose(gf) if p.severity == "error"]
    assert errors == []


@pytest.mark.parametrize("row", [r for r in ROWS if r["expected"] == "error"], ids=lambda r: r["file"])
def test_error_files_have_an_error(row):
    gf = load_path(os.path.join(CORPUS, row["file"]))
    errors = [p for p in diagnose(gf) if p.severity == "error"]
    assert errors, row["note"]
    if row["file"] in CROSS_PACKAGE_CYCLES:
        assert [p.message for p in errors] == [CROSS_PACKAGE_CYCLES[row["file"]]]
        assert CROSS_PACKAGE_CYCLES[row["file"]] in row["note"]


def test_all_error_files_counted():
    assert sum(r["expected"] == "error" for r in ROWS) == 22
