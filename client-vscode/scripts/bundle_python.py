#!/usr/bin/env python3
"""Bundle guildls and its dependencies for one VS Code target, so that the .vsix
runs the server with any CPython 3.9-3.14 without pip.

    python bundle_python.py --target linux-x64 [--out client-vscode/bundled/libs]
    python bundle_python.py --target universal
    python bundle_python.py --lock          # re-resolve client-vscode/bundle-lock.json
    python bundle_python.py --local-target  # prints this machine's target

Layout of OUT (what client-vscode/python/guildls_launcher.py expects):

    OUT/                 guildls and every pure-Python dependency (one copy for all Pythons)
    OUT/_cpython/cp3XY/  the dependencies with compiled modules (rpds-py, PyYAML) as
                         released for CPython 3.XY on the target's platform; the launcher
                         puts only its own interpreter's folder on sys.path, first
    OUT/_fallback/       pure-Python stand-ins, last on sys.path: PyYAML without libyaml,
                         and rpds (rpds-py's API) over pyrsistent. Used by the universal
                         package, and by a platform package on a Python it has no
                         compiled folder for.
    OUT/bundle.json      what is inside: target, versions, the wheel each folder came from

Every file comes from a wheel on the package registry (`pip download --only-binary=:all:
--platform ... --python-version ...`), pinned by client-vscode/bundle-lock.json; nothing is
compiled here. Wheels are cached in build/bundle-cache/wheels, and each assembled target in
build/bundle-cache/<target>/ with the hash of its inputs (lock, this script, guildls'
sources): when nothing changed, the step only compares that hash (and copies the target's
folder into OUT when OUT holds another target).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import pathlib
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = pathlib.Path(__file__).resolve().parent
CLIENT = HERE.parent
REPO = CLIENT.parent
LOCK = CLIENT / "bundle-lock.json"
CACHE = REPO / "build" / "bundle-cache"

OLDEST = (3, 9)
NEWEST = (3, 14)
ABIS = [f"cp3{m}" for m in range(OLDEST[1], NEWEST[1] + 1)]

# VS Code target -> pip --platform tags (pip also accepts the older tags each implies:
# older manylinux, older macOS releases and universal2)
TARGETS = {
    "linux-x64": ["manylinux2014_x86_64"],
    "linux-arm64": ["manylinux2014_aarch64"],
    "darwin-x64": ["macosx_10_15_x86_64"],
    "darwin-arm64": ["macosx_11_0_arm64"],
    "win32-x64": ["win_amd64"],
    "win32-arm64": ["win_arm64"],
    "universal": [],
}

# Compiled distributions and what stands in for them without a matching binary.
FALLBACKS = {
    "pyyaml": "PyYAML's pure-Python loader (no libyaml): guild files parse several times slower",
    "rpds-py": "rpds over pyrsistent (pyrsistent-as-rpds-py): schema checks slower",
}
FALLBACK_DISTS = ["pyrsistent", "pyrsistent-as-rpds-py"]
# compiled on the registry but bundled as their pure-Python wheel, and what that costs
PURE_INSTEAD = {
    "protobuf": "protobuf's pure-Python implementation (no upb): reading runs' scalar event files is slower",
}
# the module rpds-py provides, over the adapter (its own 'fake rpds' is not on the registry)
RPDS_SHIM = '''"""rpds-py's API over pyrsistent (guildls bundle fallback, no compiled rpds-py here)."""
from pyrsistent_as_rpds.pure import *  # noqa: F401,F403
from pyrsistent_as_rpds.pure import __all__  # noqa: F401
'''


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def local_target() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(machine)
    plat = {"linux": "linux", "darwin": "darwin", "win32": "win32"}.get(sys.platform)
    if arch and plat:
        return f"{plat}-{arch}"
    return "universal"


def pip(*args: str, quiet: bool = False) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    if not quiet:
        print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wheel_tags(filename: str):
    """(name, version, {(interpreter, abi, platform)}) of a wheel file name."""
    parts = filename[:-4].split("-")
    name, version = parts[0], parts[1]
    py, abi, plat = parts[-3], parts[-2], parts[-1]
    tags = {(i, a, p) for i in py.split(".") for a in abi.split(".") for p in plat.split(".")}
    return norm(name), version, tags


# -- lock --------------------------------------------------------------------------------
def guildls_requirements() -> list[str]:
    """The dependencies declared in pyproject.toml ([project] dependencies)."""
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib
    with open(REPO / "pyproject.toml", "rb") as f:
        return list(tomllib.load(f)["project"]["dependencies"])


def make_lock() -> dict:
    """Resolve guildls' dependencies for the oldest supported Python (the versions picked
    run on every newer one: requires-python has no upper bound) and pin them."""
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="guildls-lock-"))
    try:
        oldest = "%d.%d" % OLDEST
        r = pip("download", "-q", "--only-binary=:all:", "--python-version", oldest, "--implementation", "cp",
                "--abi", ABIS[0], "--platform", TARGETS["linux-x64"][0], "-d", str(tmp),
                # markers dropped: pip would judge them by the running Python, and the bundle
                # serves 3.9 too (tomli before 3.11)
                *(r.split(";")[0].strip() for r in guildls_requirements()),
                "exceptiongroup", "typing_extensions", *FALLBACK_DISTS)
        if r.returncode:
            sys.exit(r.stdout)
        lock = {"python": [oldest, "%d.%d" % NEWEST], "pure": {}, "compiled": {}, "fallback": {}}
        for whl in sorted(tmp.glob("*.whl")):
            name, version, tags = wheel_tags(whl.name)
            kind = ("fallback" if name in FALLBACK_DISTS else
                    "pure" if all(p == "any" for _, _, p in tags) else "compiled")
            if kind == "compiled" and name not in FALLBACKS:
                # a compiled dependency with a pure-Python wheel of its own (protobuf):
                # that wheel, for every target (see PURE_INSTEAD)
                if not fetch(tmp / "pure", name, version, None, []):
                    sys.exit(f"{name}=={version} has compiled wheels only: teach the bundler its fallback")
                kind = "pure"
            lock[kind][name] = version
        missing = set(FALLBACKS) - set(lock["compiled"])
        if missing:
            sys.exit(f"expected compiled distributions not resolved: {sorted(missing)}")
        return lock
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- wheels ------------------------------------------------------------------------------
def cached_wheel(wheels: pathlib.Path, name: str, version: str, abi: str | None, platforms: list[str]):
    """A cached wheel of name==version for the ABI (None: pure) and platforms, if any."""
    for whl in wheels.glob("*.whl"):
        n, v, tags = wheel_tags(whl.name)
        if n != name or v != version:
            continue
        if abi is None:
            if all(p == "any" for _, _, p in tags):
                return whl
        elif any(a == abi and platform_ok(p, platforms) for _, a, p in tags):
            return whl
    return None


def platform_ok(tag: str, platforms: list[str]) -> bool:
    """True when a wheel's platform tag runs on one of the target's platforms."""
    for want in platforms:
        if tag == want:
            return True
        arch = want.split("_", 2)[-1] if want.startswith("manylinux") else None
        if arch and re.fullmatch(r"manylinux(1|2010|2014|_2_\d+)_" + re.escape(arch), tag):
            m = re.fullmatch(r"manylinux_2_(\d+)_.*", tag)
            if not m or int(m.group(1)) <= 17:
                return True
        m_want = re.fullmatch(r"macosx_(\d+)_(\d+)_(\w+)", want)
        m_tag = re.fullmatch(r"macosx_(\d+)_(\d+)_(\w+)", tag)
        if m_want and m_tag:
            fits = (int(m_tag.group(1)), int(m_tag.group(2))) <= (int(m_want.group(1)), int(m_want.group(2)))
            if fits and m_tag.group(3) in (m_want.group(3), "universal2"):
                return True
    return False


def fetch(wheels: pathlib.Path, name: str, version: str, abi: str | None, platforms: list[str]):
    """The wheel of name==version for the ABI and platforms: from the cache, else downloaded."""
    whl = cached_wheel(wheels, name, version, abi, platforms)
    if whl:
        return whl
    r = pip(*download_args(wheels, abi, platforms), f"{name}=={version}")
    if r.returncode:
        if "No matching distribution" in r.stdout or "Could not find a version" in r.stdout:
            return None
        raise SystemExit(f"pip download {name}=={version} ({abi}, {platforms}) failed:\n{r.stdout}")
    return cached_wheel(wheels, name, version, abi, platforms)


def prefetch(wheels: pathlib.Path, dists: dict, abi: str, platforms: list[str]) -> None:
    """Download the ABI's wheels of every distribution not cached yet, in one pip run
    (when one has no wheel the run fails as a whole, and fetch() takes them one by one)."""
    todo = [f"{n}=={v}" for n, v in dists.items() if not cached_wheel(wheels, n, v, abi, platforms)]
    if not todo:
        return
    pip(*download_args(wheels, abi, platforms), *todo)


def download_args(wheels: pathlib.Path, abi: str | None, platforms: list[str]) -> list[str]:
    """pip download's arguments for wheels of the ABI (None: pure Python) and platforms."""
    args = ["download", "-q", "--no-deps", "--only-binary=:all:", "-d", str(wheels)]
    if abi is None:
        return args + ["--python-version", "%d.%d" % OLDEST, "--platform", "any", "--implementation", "py"]
    args += ["--python-version", f"3.{abi[3:]}", "--implementation", "cp", "--abi", abi]
    for p in platforms:
        args += ["--platform", p]
    return args


def unpack(whl: pathlib.Path, dest: pathlib.Path, binaries: bool = True) -> None:
    with zipfile.ZipFile(whl) as z:
        for member in z.namelist():
            if member.endswith("/") or member.split("/")[0].endswith((".data",)):
                continue
            if not binaries and re.search(r"\.(so|pyd|dylib|dll)$", member):
                continue
            z.extract(member, dest)


# -- the bundle --------------------------------------------------------------------------
def source_files():
    yield REPO / "pyproject.toml"
    yield pathlib.Path(__file__).resolve()
    yield LOCK
    for p in sorted((REPO / "server" / "guildls").rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc"):
            yield p


def inputs_hash(target: str) -> str:
    h = hashlib.sha256(f"target={target}\n".encode())
    for p in source_files():
        h.update(str(p.relative_to(REPO)).encode() + b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()


def build(target: str, dest: pathlib.Path, lock: dict, wheels: pathlib.Path) -> dict:
    platforms = TARGETS[target]
    manifest = {"target": target, "platforms": platforms, "python": lock["python"], "pure": {},
                "abis": {}, "fallback": {}, "missing": {}}
    dest.mkdir(parents=True)
    # guildls itself, straight from the source tree (pure Python + its schema JSON)
    shutil.copytree(REPO / "server" / "guildls", dest / "guildls",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    from_version = re.search(r'__version__\s*=\s*"([^"]+)"', (dest / "guildls" / "__init__.py").read_text())
    manifest["pure"]["guildls"] = from_version.group(1) if from_version else "?"

    jobs = [(n, v, None) for n, v in lock["pure"].items()] + [(n, v, None) for n, v in lock["fallback"].items()]
    if platforms:
        jobs += [(n, v, abi) for n, v in lock["compiled"].items() for abi in ABIS]
    # one download per ABI for all its distributions (pip starts are the cost)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda abi: prefetch(wheels, lock["compiled"], abi, platforms), ABIS if platforms else []))
        prefetch(wheels, {**lock["pure"], **lock["fallback"]}, None, [])
    # fallback PyYAML: the Python files of any one of its wheels
    jobs.append(("pyyaml", lock["compiled"]["pyyaml"], "cp39@any"))
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = {}
        for name, version, abi in jobs:
            if abi == "cp39@any":
                futures[(name, version, abi)] = pool.submit(fetch, wheels, name, version, "cp39", TARGETS["linux-x64"])
            else:
                futures[(name, version, abi)] = pool.submit(fetch, wheels, name, version, abi, platforms)
        got = {k: f.result() for k, f in futures.items()}

    for (name, version, abi), whl in sorted(got.items(), key=lambda kv: (kv[0][0], kv[0][2] or "")):
        if abi == "cp39@any":
            unpack(whl, dest / "_fallback", binaries=False)
            manifest["fallback"]["pyyaml"] = {"version": version, "from": whl.name, "what": FALLBACKS["pyyaml"]}
        elif abi is None:
            if whl is None:
                raise SystemExit(f"no py3-none-any wheel of {name}=={version}")
            where = dest / "_fallback" if name in lock["fallback"] else dest
            unpack(whl, where)
            if name in lock["fallback"]:
                manifest["fallback"][name] = {"version": version, "from": whl.name}
            else:
                manifest["pure"][name] = version
        elif whl is None:
            manifest["missing"].setdefault(abi, []).append(name)
        else:
            unpack(whl, dest / "_cpython" / abi)
            manifest["abis"].setdefault(abi, {})[name] = whl.name
    (dest / "_fallback" / "rpds").mkdir(parents=True, exist_ok=True)
    (dest / "_fallback" / "rpds" / "__init__.py").write_text(RPDS_SHIM)
    manifest["fallback"]["rpds-py"] = {"what": FALLBACKS["rpds-py"]}
    manifest["pure_instead"] = {n: PURE_INSTEAD.get(n, "pure-Python wheel") for n in lock["pure"]
                                if n in PURE_INSTEAD}
    for sub in [dest, *(dest / "_cpython").glob("cp*"), dest / "_fallback"]:
        shutil.rmtree(sub / "bin", ignore_errors=True)
    (dest / "bundle.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def summary(manifest: dict) -> str:
    lines = [f"guildls bundle for {manifest['target']} ({', '.join(manifest['platforms']) or 'any platform'})"]
    for abi in ABIS:
        have = sorted(manifest["abis"].get(abi, {}))
        miss = manifest["missing"].get(abi, [])
        if have or miss:
            lines.append(f"  {abi}: compiled {', '.join(have) or '-'}" + (f"; no wheel: {', '.join(miss)}" if miss else ""))
    if not manifest["abis"]:
        lines.append("  no compiled modules: " + "; ".join(FALLBACKS.values()))
    return "\n".join(lines)


def sync(src: pathlib.Path, out: pathlib.Path) -> None:
    """Make OUT a copy of SRC (hard links where the file system allows: instant)."""
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def link(s, d):
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)
    shutil.copytree(src, out, copy_function=link)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", choices=sorted(TARGETS), help="VS Code target (default: this machine's)")
    ap.add_argument("--out", help="copy the target's bundle there (client-vscode/bundled/libs for vsce)")
    ap.add_argument("--cache", default=str(CACHE))
    ap.add_argument("--lock", action="store_true", help="re-resolve and write bundle-lock.json")
    ap.add_argument("--local-target", action="store_true", help="print this machine's VS Code target")
    ap.add_argument("--force", action="store_true", help="rebuild even when the inputs did not change")
    a = ap.parse_args()
    if a.local_target:
        print(local_target())
        return 0
    if a.lock:
        LOCK.write_text(json.dumps(make_lock(), indent=1, sort_keys=True) + "\n")
        print(LOCK.read_text())
        return 0
    target = a.target or local_target()
    lock = json.loads(LOCK.read_text())
    cache = pathlib.Path(a.cache)
    built = cache / target
    digest = inputs_hash(target)
    stamp = built / "inputs.sha256"
    if a.force or not stamp.exists() or stamp.read_text() != digest:
        tmp = cache / f".{target}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        (cache / "wheels").mkdir(parents=True, exist_ok=True)
        manifest = build(target, tmp / "libs", lock, cache / "wheels")
        (tmp / "inputs.sha256").write_text(digest)
        shutil.rmtree(built, ignore_errors=True)
        tmp.rename(built)
        print(summary(manifest))
    else:
        print(f"bundle for {target}: inputs unchanged, cached in {built}")
    if not a.out:
        return 0
    out = pathlib.Path(a.out)
    out_stamp = out.parent / (out.name + ".sha256")
    if not (out_stamp.exists() and out_stamp.read_text() == digest):
        sync(built / "libs", out)
        out_stamp.write_text(digest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
