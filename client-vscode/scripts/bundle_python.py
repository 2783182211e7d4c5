#!/usr/bin/env python3
"""Bundle guildls and its dependencies into client-vscode/bundled/libs, so that
the .vsix runs the server with any CPython >= 3.9 without pip.

    python bundle_python.py REPO_ROOT OUT_DIR [--platform manylinux2014_x86_64]

1. guildls is built into a wheel; it and its dependencies are installed into
   OUT_DIR as resolved for the *oldest* supported Python (3.9): the versions
   picked run on 3.9 and on every newer Python (requires-python has no upper
   bound).
2. Dependencies with compiled modules (rpds-py, needed by jsonschema's
   `referencing`; PyYAML's optional `_yaml`) ship one binary per Python
   version. Their names carry the ABI tag (rpds.cpython-312-x86_64-linux-gnu.so),
   so the binaries of every supported version sit side by side in the same
   package folder, and each Python loads its own. They are taken from the same
   release's wheels for the --platform (default: Linux x86_64, manylinux).
   PyYAML falls back to its pure-Python loader where no binary matches.
3. Bytecode is compiled for the running Python (unchecked-hash .pyc: valid after
   the zip round trip); other versions compile their own on first use.
Writes OUT_DIR/BUNDLE.txt: what is inside and for which Python versions.
"""
import argparse
import email.parser
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

OLDEST = (3, 9)
NEWEST = (3, 14)


def pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def dists(out: pathlib.Path):
    """(name, version, [files]) for every dist-info in OUT."""
    for d in sorted(out.glob("*.dist-info")):
        meta = email.parser.Parser().parsestr((d / "METADATA").read_text(encoding="utf-8"))
        files = []
        record = d / "RECORD"
        if record.exists():
            files = [line.split(",")[0] for line in record.read_text(encoding="utf-8").splitlines() if line]
        yield meta["Name"], meta["Version"], files


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("repo")
    ap.add_argument("out")
    ap.add_argument("--platform", default="manylinux2014_x86_64")
    a = ap.parse_args()
    out = pathlib.Path(a.out)
    if out.exists():
        shutil.rmtree(out)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="guildls-bundle-"))
    try:
        pip("wheel", "-q", "--no-deps", "--wheel-dir", str(tmp / "wheel"), a.repo)
        wheel = next((tmp / "wheel").glob("guildls-*.whl"))
        oldest = "%d.%d" % OLDEST
        pip("install", "-q", "--target", str(out), "--only-binary=:all:", "--python-version", oldest,
            "--implementation", "cp", "--abi", "cp%d%d" % OLDEST, "--platform", a.platform,
            str(wheel), "exceptiongroup", "typing_extensions")
        shutil.rmtree(out / "bin", ignore_errors=True)
        lines = ["guildls bundle: resolved for Python %s, platform %s" % (oldest, a.platform), ""]
        for name, version, files in list(dists(out)):
            binaries = [f for f in files if re.search(r"\.(so|pyd)$", f)]
            if not binaries:
                lines.append(f"{name} {version}: pure Python")
                continue
            have = []
            for minor in range(OLDEST[1], NEWEST[1] + 1):
                pv = f"3.{minor}"
                dl = tmp / f"dl-{name}-{minor}"
                r = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "download", "-q",
                                    "--no-deps", "--only-binary=:all:", "--python-version", pv, "--implementation", "cp",
                                    "--abi", f"cp3{minor}", "--platform", a.platform, "-d", str(dl), f"{name}=={version}"],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                whls = list(dl.glob("*.whl")) if r.returncode == 0 else []
                if not whls:
                    continue
                with zipfile.ZipFile(whls[0]) as z:
                    for member in z.namelist():
                        if re.search(r"\.(so|pyd)$", member) and not (out / member).exists():
                            z.extract(member, out)
                have.append(pv)
            lines.append(f"{name} {version}: compiled modules for CPython {', '.join(have) or 'none'} ({a.platform})")
        (out / "BUNDLE.txt").write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
        subprocess.run([sys.executable, "-m", "compileall", "-q", "-f", "--invalidation-mode", "unchecked-hash",
                        str(out)], check=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
