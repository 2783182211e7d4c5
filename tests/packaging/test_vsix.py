"""Every .vsix target, as `make vsix-all` builds it, opened and checked:

- the VSIX manifest names the target, bundle.json agrees, and the package holds nothing
  but the extension's files (no sources, maps, caches, lock files);
- platform targets: one compiled folder per supported CPython (3.9-3.14), each with the
  compiled modules of rpds-py and PyYAML, whose file names carry that ABI and whose
  machine code (ELF / Mach-O / PE header) is the target's; the wheels they came from have
  platform tags of the target;
- universal: no machine code at all, the pure-Python fallbacks present;
- the Linux x86_64 package, unpacked as VS Code installs it, starts with site-packages off
  (`-I -S`) on every supported CPython found here and answers `initialize` over stdio
  without falling back; the universal one does too and logs what it runs without; both
  report the same problems as the development install.
"""
from __future__ import annotations

import importlib.util
import json
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from packaging_util import CLIENT, REPO, SUPPORTED, interpreters, lsp_session

TARGETS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "win32-x64", "win32-arm64", "universal"]
ABIS = [f"cp{a}{b}" for a, b in SUPPORTED]
COMPILED = {"rpds-py": "rpds", "pyyaml": "yaml"}  # distribution -> package with the binary
# (target, abi) with no wheel on the registry for the locked versions (bundle-lock.json);
# the launcher runs those on the pure-Python fallbacks
EXPECTED_GAPS = {("win32-arm64", "cp39", "pyyaml"), ("win32-arm64", "cp39", "rpds-py"),
                 ("win32-arm64", "cp310", "pyyaml"), ("win32-arm64", "cp310", "rpds-py"),
                 ("win32-arm64", "cp311", "pyyaml")}
# machine code a target's binaries must contain
ARCH = {"linux-x64": "x86_64", "linux-arm64": "arm64", "darwin-x64": "x86_64", "darwin-arm64": "arm64",
        "win32-x64": "x86_64", "win32-arm64": "arm64"}
FORMAT = {"linux": "elf", "darwin": "macho", "win32": "pe"}
# what may be in a .vsix, besides bundled/libs/
ALLOWED = {"extension/package.json", "extension/readme.md", "extension/changelog.md", "extension/LICENSE.txt",
           "extension/language-configuration.json", "extension/dist/extension.js",
           "extension/python/guildls_launcher.py", "extension.vsixmanifest", "[Content_Types].xml"}
ALLOWED_DIRS = ("extension/bundled/libs/", "extension/images/", "extension/syntaxes/", "extension/dist/webviews/")

_spec = importlib.util.spec_from_file_location("bundle_python", CLIENT / "scripts" / "bundle_python.py")
bundle_python = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bundle_python)


@pytest.fixture(scope="module")
def built() -> dict:
    """{target: .vsix path} after `make vsix-all` (cached: only changed inputs rebuild)."""
    r = subprocess.run(["make", "--no-print-directory", "vsix-all"], cwd=REPO, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=3000)
    if r.returncode:
        pytest.fail(f"make vsix-all failed:\n{r.stdout[-6000:]}")
    version = json.loads((CLIENT / "package.json").read_text())["version"]
    out = {t: CLIENT / f"guildls-{version}-{t}.vsix" for t in TARGETS}
    for t, p in out.items():
        assert p.exists(), f"{p.name} was not built:\n{r.stdout[-3000:]}"
        print(f"{p.name}: {p.stat().st_size / 1048576:.2f} MiB")
    return out


def machine_code(data: bytes) -> tuple:
    """(format, {architectures}) of a shared library's header."""
    if data[:4] == b"\x7fELF":
        machine = struct.unpack_from("<H", data, 18)[0]
        return "elf", {{62: "x86_64", 183: "arm64"}.get(machine, str(machine))}
    cpu = {0x01000007: "x86_64", 0x0100000C: "arm64"}
    if data[:4] == b"\xcf\xfa\xed\xfe":
        return "macho", {cpu.get(struct.unpack_from("<i", data, 4)[0], "?")}
    if data[:4] == b"\xca\xfe\xba\xbe":  # universal2: one slice per architecture
        n = struct.unpack_from(">I", data, 4)[0]
        return "macho", {cpu.get(struct.unpack_from(">i", data, 8 + 20 * i)[0], "?") for i in range(n)}
    if data[:2] == b"MZ":
        pe = struct.unpack_from("<I", data, 0x3C)[0]
        assert data[pe:pe + 4] == b"PE\0\0"
        machine = struct.unpack_from("<H", data, pe + 4)[0]
        return "pe", {{0x8664: "x86_64", 0xAA64: "arm64"}.get(machine, hex(machine))}
    return "?", set()


def _abi_of(filename: str):
    m = re.search(r"\.(?:cpython-|cp)3(\d+)[-.]", filename)
    return f"cp3{m.group(1)}" if m else None


@pytest.mark.parametrize("target", TARGETS)
def test_target_contents(built, target):
    with zipfile.ZipFile(built[target]) as z:
        names = z.namelist()
        manifest = z.read("extension.vsixmanifest").decode()
        bundle = json.loads(z.read("extension/bundled/libs/bundle.json"))
        stray = [n for n in names if n not in ALLOWED and not n.startswith(ALLOWED_DIRS)]
        assert not stray, f"unexpected files in {built[target].name}: {stray[:20]}"
        assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".ts", ".map"))]
        assert "extension/bundled/libs/guildls/schema/guildfile.schema.json" in names
        assert "extension/images/icon.png" in names
        m = re.search(r'TargetPlatform="([^"]+)"', manifest)
        assert (m.group(1) if m else "universal") == target
        assert bundle["target"] == target
        bundled = {*bundle["pure"], *(d for abi in bundle["abis"].values() for d in abi), *bundle["fallback"]}
        for req in bundle_python.guildls_requirements():  # every dependency of pyproject.toml
            name = bundle_python.norm(re.split(r"[<>=!~; \[]", req)[0])
            assert name in bundled, f"{name} ({req}) is not in the {target} bundle: run `make bundle-lock`"
        binaries = [n for n in names if re.search(r"\.(so|pyd|dylib|dll)$", n)]
        if target == "universal":
            assert binaries == [], binaries
            assert not bundle["abis"]
        else:
            fmt, arch = FORMAT[target.split("-")[0]], ARCH[target]
            for n in binaries:
                parts = n.split("/")
                assert parts[3] == "_cpython", f"machine code outside a compiled folder: {n}"
                abi = parts[4]
                assert _abi_of(parts[-1]) == abi, f"{n}: not built for {abi}"
                got_fmt, got_arch = machine_code(z.read(n))
                assert got_fmt == fmt and arch in got_arch, f"{n}: {got_fmt} {got_arch}, want {fmt} {arch}"
            for abi in ABIS:
                want = {d for d in COMPILED if (target, abi, d) not in EXPECTED_GAPS}
                have = set(bundle["abis"].get(abi, {}))
                assert have == want, f"{target} {abi}: compiled {sorted(have)}, expected {sorted(want)}"
                for dist, wheel in bundle["abis"].get(abi, {}).items():
                    _, _, tags = bundle_python.wheel_tags(wheel)
                    assert any(a == abi and bundle_python.platform_ok(p, bundle["platforms"]) for _, a, p in tags), wheel
                    pkg = COMPILED[dist]
                    assert any(n.startswith(f"extension/bundled/libs/_cpython/{abi}/{pkg}/") and n in binaries
                               for n in names), f"{target} {abi}: no compiled {pkg}"
        # the fallbacks every target carries
        assert "extension/bundled/libs/_fallback/rpds/__init__.py" in names
        assert "extension/bundled/libs/_fallback/yaml/__init__.py" in names
        assert "extension/bundled/libs/_fallback/pyrsistent/__init__.py" in names


def _unpack(vsix: Path, dest: Path) -> Path:
    with zipfile.ZipFile(vsix) as z:
        z.extractall(dest)
    return dest / "extension" / "python" / "guildls_launcher.py"


FOUND = interpreters()
FALLBACK_WORDS = ("without libyaml", "replaced by pure-Python pyrsistent")


@pytest.fixture(scope="module")
def linux_x64(built, tmp_path_factory) -> Path:
    return _unpack(built["linux-x64"], tmp_path_factory.mktemp("linux-x64"))


@pytest.fixture(scope="module")
def universal(built, tmp_path_factory) -> Path:
    return _unpack(built["universal"], tmp_path_factory.mktemp("universal"))


def test_interpreters_found():
    print("CPython found here:", ", ".join(f"{a}.{b} ({p})" for (a, b), p in FOUND.items()))
    print("not found:", ", ".join(f"{a}.{b}" for a, b in SUPPORTED if (a, b) not in FOUND) or "none")
    assert FOUND


@pytest.mark.skipif(bundle_python.local_target() != "linux-x64", reason="runs the Linux x86_64 package")
@pytest.mark.parametrize("version", list(FOUND), ids=[f"py{a}.{b}" for a, b in FOUND])
async def test_linux_x64_answers_initialize(linux_x64, version, tmp_path):
    python = FOUND[version]
    result, messages = await lsp_session([python, "-I", "-S", str(linux_x64), "serve"], str(tmp_path))
    assert result.server_info.name == "guildls"
    assert result.capabilities.completion_provider is not None
    assert not [m for m in messages if any(w in m for w in FALLBACK_WORDS)], messages


async def test_universal_answers_initialize_and_reports_fallbacks(universal, tmp_path):
    result, messages = await lsp_session([sys.executable, "-I", "-S", str(universal), "serve"], str(tmp_path))
    assert result.server_info.name == "guildls"
    for w in FALLBACK_WORDS:
        assert [m for m in messages if w in m], (w, messages)


SCALARS = """
import sys
sys.path[0:0] = __import__("runpy").run_path(sys.argv[1])["bundle_path"](sys.argv[2])
from guildls.runs.scalars import encode_event, record
from guildls.runs.tfevents import read_event_file
with open(sys.argv[3], "wb") as f:
    f.write(record(encode_event(1.0, 0, scalars={"loss": 0.5})))
print(read_event_file(sys.argv[3]))
"""


@pytest.mark.skipif(bundle_python.local_target() != "linux-x64", reason="runs the Linux x86_64 package")
def test_bundled_protobuf_reads_run_scalars(linux_x64, universal, tmp_path):
    for launcher in (linux_x64, universal):
        libs = launcher.parents[1] / "bundled" / "libs"
        r = subprocess.run([FOUND[min(FOUND)], "-I", "-S", "-c", SCALARS, str(launcher), str(libs),
                            str(tmp_path / "events.out.tfevents.1.h.1.0")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        assert r.returncode == 0 and "loss" in r.stdout and "0.5" in r.stdout, r.stdout


BAD = """\
train:
  main: train
  flags:
    lr:
      type: flot
      default: 0.1
  requires: 3
  exec: 5
"""


@pytest.mark.skipif(bundle_python.local_target() != "linux-x64", reason="runs the Linux x86_64 package")
def test_same_problems_everywhere(linux_x64, universal, tmp_path):
    """The compiled, the pure-Python and the development server see the same problems."""
    (tmp_path / "guild.yml").write_text(BAD)
    paths = [str(tmp_path / "guild.yml"), str(REPO / "examples")]
    oldest, newest = FOUND[min(FOUND)], FOUND[max(FOUND)]
    runs = {
        "dev": [sys.executable, "-m", "guildls", "check", *paths],
        "linux-x64 oldest": [oldest, "-I", "-S", str(linux_x64), "check", *paths],
        "linux-x64 newest": [newest, "-I", "-S", str(linux_x64), "check", *paths],
        "universal": [newest, "-I", "-S", str(universal), "check", *paths],
    }
    outs = {k: subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
            for k, cmd in runs.items()}
    assert "invalid dependency value 3" in outs["dev"].stdout
    for k, r in outs.items():
        assert (r.returncode, r.stdout, r.stderr) == (outs["dev"].returncode, outs["dev"].stdout, outs["dev"].stderr), k
