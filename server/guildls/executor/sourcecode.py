"""Which project files are copied into a run directory (Guild's `sourcecode` rules).

Port of Guild 0.9's selection (guild/op_util.py, guild/file_util.py, guildfile.py):

- base rules: exclude hidden directories, exclude directories holding a `.guild-nocopy`
  sentinel, include text files smaller than 1 MB, at most 100 of them;
- then the model's `sourcecode` rules, then the operation's;
- a rule is `include`/`exclude` of glob patterns (a pattern without `/` matches the file
  name), optionally typed `text`, `binary` or `dir`; the *last* rule that matches a file
  decides; a directory pattern without a glob matches the whole directory;
- `sourcecode: '*.py'` or a list of strings means "exclude everything, include these";
  `sourcecode: no` (or `[]`) copies nothing; the mapping form has `select`, `root`, `dest`.

In a git checkout (and with `git` on PATH) the base rules are Guild's git rules instead:
every file git does not ignore (`git ls-files -ioc --exclude-standard --directory`, plus
the patterns of a `.guildignore`), any type or size, except `.git*` files, `.git` and
ignored directories, `.guild` and `.guild-nocopy` directories. Workflows (`steps`) copy
nothing, as in Guild.
"""

from __future__ import annotations

import fnmatch
import glob
import os
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

MAX_FILE_SIZE = 1024 * 1024
MAX_COUNT = 100
MAX_EXAMINED = 5000  # stop walking huge data trees early (not in Guild)


@dataclass
class Rule:
    result: bool
    patterns: list
    type: Optional[str] = None  # text | binary | dir
    sentinel: Optional[str] = None
    size_lt: Optional[int] = None
    max_matches: Optional[int] = None
    matches: int = 0

    def _match(self, relpath: str) -> bool:
        for p in self.patterns:
            path = relpath if "/" in p else os.path.basename(relpath)
            if fnmatch.fnmatch(path, p.lstrip("/")):
                return True
        return False

    def test(self, root: str, relpath: str) -> Optional[bool]:
        if self.max_matches is not None and self.matches >= self.max_matches:
            return None
        if not self._match(relpath):
            return None
        full = os.path.join(root, relpath)
        if self.type == "text" and not is_text(full):
            return None
        if self.type == "binary" and is_text(full):
            return None
        if self.type == "dir":
            if not os.path.isdir(full):
                return None
            if self.sentinel and not glob.glob(os.path.join(full, self.sentinel)):
                return None
        if self.size_lt is not None:
            try:
                if os.path.getsize(full) >= self.size_lt:
                    return None
            except OSError:
                pass
        self.matches += 1
        return self.result


@dataclass
class Select:
    root: str
    rules: list = field(default_factory=list)
    dest: str = "."
    disabled: bool = False

    def files(self) -> Iterator[str]:
        """Relative paths of the selected files, in walk order."""
        if self.disabled or not os.path.isdir(self.root):
            return
        file_rules = [r for r in self.rules if r.type != "dir"]
        dir_rules = [r for r in self.rules if r.type == "dir"]
        examined = 0
        for cur, dirs, files in os.walk(self.root, followlinks=True):
            rel_root = os.path.relpath(cur, self.root)
            rel_root = "" if rel_root == "." else rel_root
            keep = []
            for d in sorted(dirs):
                rel = os.path.join(rel_root, d) if rel_root else d
                last = None
                for r in dir_rules:
                    res = r.test(self.root, rel)
                    if res is not None:
                        last = res
                if last is not False:
                    keep.append(d)
            dirs[:] = keep
            for f in sorted(files):
                rel = os.path.join(rel_root, f) if rel_root else f
                if f.endswith((".pyc", ".pyo")) or os.path.islink(os.path.join(cur, f)):
                    continue
                examined += 1
                if examined > MAX_EXAMINED:
                    return
                last = None
                for r in file_rules:
                    res = r.test(self.root, rel)
                    if res is not None:
                        last = res
                if last is True:
                    yield rel


_text_cache: dict = {}


def is_text(path: str) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    key = (path, st.st_mtime_ns, st.st_size)
    hit = _text_cache.get(key)
    if hit is not None:
        return hit
    try:
        with open(path, "rb") as f:
            chunk = f.read(1024)
    except OSError:
        return False
    res = b"\0" not in chunk
    if res and chunk:
        try:
            chunk.decode("utf-8")
        except UnicodeDecodeError as e:
            res = e.start >= len(chunk) - 4  # a multi-byte char cut by the 1 KB read
    _text_cache[key] = res
    return res


class _NotIgnored(Rule):
    """Guild's _GitignoreSelectRule: selects everything git does not ignore."""

    def __init__(self, ignored: set):
        super().__init__(True, [])
        self.ignored = ignored

    def test(self, root: str, relpath: str) -> Optional[bool]:
        return None if os.path.normpath(relpath) in self.ignored else True


def _find_up(name: str, start: str) -> Optional[str]:
    cur = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(cur, name)):
            return cur
        parent = os.path.dirname(cur)
        if parent == cur:
            return None
        cur = parent


def git_rules(root: str) -> Optional[list]:
    """Guild's VCS select rules for a project inside a git work tree, else None."""
    import shutil
    import subprocess

    if _find_up(os.path.join(".git", "HEAD"), root) is None:
        return None
    git = shutil.which("git")
    if git is None:
        return None
    cmd = [git, "ls-files", "-ioc", "--exclude-standard", "--directory"]
    try:
        with open(os.path.join(root, ".guildignore")) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    cmd += ["-x", line]
    except OSError:
        pass
    try:
        out = subprocess.run(cmd, cwd=root, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    ignored = [l for l in out.stdout.decode("utf-8", "replace").splitlines() if l]
    dirs = [p.rstrip("/") for p in ignored if os.path.isdir(os.path.join(root, p))]
    return [
        Rule(False, [".guild"], type="dir"),
        Rule(False, ["*"], type="dir", sentinel=".guild-nocopy"),
        Rule(False, [".git"] + dirs, type="dir"),
        _NotIgnored({os.path.normpath(p) for p in ignored}),
        Rule(False, [".git*", ".guildignore"]),
    ]


def _fresh(rule: Rule) -> Rule:
    """A copy with its match counter reset (rules count matches for max_matches)."""
    import copy

    r = copy.copy(rule)
    r.matches = 0
    return r


def base_rules(python: bool = False) -> list:
    """Guild's default rules; for a Python operation plus the python_script plugin's (no
    `__pycache__`, `build`, `dist`, `*.egg-info`, nor virtualenvs with `bin/activate`)."""
    rules = [
        Rule(False, [".*"], type="dir"),
        Rule(False, ["*"], type="dir", sentinel=".guild-nocopy"),
        Rule(True, ["*"], type="text", size_lt=MAX_FILE_SIZE + 1, max_matches=MAX_COUNT),
    ]
    if python:
        rules += [
            Rule(False, ["__pycache__"], type="dir"),
            Rule(False, ["*"], type="dir", sentinel="bin/activate"),
            Rule(False, ["*"], type="dir", sentinel="Scripts/activate"),
            Rule(False, ["build"], type="dir"),
            Rule(False, ["dist"], type="dir"),
            Rule(False, ["*.egg-info"], type="dir"),
        ]
    return rules


def is_python_op(op, project_dir: str) -> bool:
    """Guild's python_script plugin is enabled for the op: `main`, or an `exec` whose
    program is `${python_exe}`, `${guild_python_exe}` or an executable file named python*."""
    import shlex

    if getattr(op, "main", None) or not getattr(op, "exec", None):
        return bool(getattr(op, "main", None)) or not getattr(op, "steps", None)
    try:
        prog = shlex.split(op.exec)[0]
    except (ValueError, IndexError):
        return False
    if prog in ("${python_exe}", "${guild_python_exe}"):
        return True
    path = os.path.join(project_dir, prog)
    return os.path.isfile(path) and os.access(path, os.X_OK) \
        and os.path.basename(prog).lower().startswith("python")


def _coerce(data: Any) -> Optional[dict]:
    """Guild's _coerce_select_files: -> {'select': list|False, 'root', 'dest'} or None."""
    if data is None:
        return None
    if data is False or data == []:
        return {"select": False}
    if isinstance(data, str):
        return {"select": [{"exclude": "*"}, {"include": data}]}
    if isinstance(data, list):
        items, all_strings = [], True
        for item in data:
            if isinstance(item, str):
                items.append({"include": item})
            elif isinstance(item, dict):
                items.append(item)
                all_strings = False
        if all_strings:
            items.insert(0, {"exclude": "*"})
        return {"select": items}
    if isinstance(data, dict):
        inner = _coerce(data.get("select"))
        out = {"select": inner["select"] if inner else [], "root": data.get("root"),
               "dest": data.get("dest")}
        return out
    return None


def _spec_rules(specs: list, root: str) -> list:
    rules = []
    for spec in specs:
        if not isinstance(spec, dict):
            continue
        for kind in ("include", "exclude"):
            if kind not in spec:
                continue
            val = spec[kind]
            ptype = None
            if isinstance(val, dict):
                for t in ("dir", "text", "binary"):
                    if t in val:
                        ptype, val = t, val[t]
                        break
                else:
                    continue
            patterns = [val] if isinstance(val, str) else [str(p) for p in (val or [])]
            if ptype is None:
                patterns = [os.path.join(p, "*") if os.path.isdir(os.path.join(root, p)) else p
                            for p in patterns]
            rules.append(Rule(kind == "include", patterns, type=ptype))
            break
    return rules


def select_for(op, project_dir: str, cache: Optional[dict] = None) -> Select:
    """The file selection Guild would use for `op` (a guildls.model Operation).
    `cache` (a dict the caller keeps for one run) avoids asking git once per step."""
    op_data = _coerce(op.value("sourcecode") if hasattr(op, "value") else None) or {}
    model_data = None
    mdata = getattr(getattr(op, "model", None), "data", None)
    if mdata is not None and hasattr(mdata, "get"):
        n = mdata.get("sourcecode")
        if n is not None:
            try:
                model_data = _coerce(n.py())
            except Exception:
                model_data = None
    model_data = model_data or {}
    root_rel = op_data.get("root") or model_data.get("root")
    root = os.path.normpath(os.path.join(project_dir, root_rel)) if root_rel else project_dir
    dest = op_data.get("dest") or model_data.get("dest") or "."
    op_specs = op_data.get("select")
    model_specs = model_data.get("select")
    disabled = op_specs is False or (model_specs is False and not op_specs)
    if disabled:
        return Select(root, [], dest, disabled=True)
    if cache is not None:
        if root not in cache:
            cache[root] = git_rules(root)
        vcs = cache[root]
        vcs = [_fresh(r) for r in vcs] if vcs else None
    else:
        vcs = git_rules(root)
    rules = (vcs or base_rules(is_python_op(op, project_dir))) + _spec_rules(model_specs or [], root) \
        + _spec_rules(op_specs or [], root)
    sel = Select(root, rules, dest)
    disabled = False  # Guild's shortcut: an untyped exclude '*' not followed by an include
    for r in rules:
        if r.result:
            disabled = False
        elif "*" in r.patterns and r.type is None:
            disabled = True
    sel.disabled = disabled
    return sel
