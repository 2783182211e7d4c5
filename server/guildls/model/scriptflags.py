"""The flags of a Python script, read statically (user code is never run).

Guild imports a `main` script's flags by running it (argparse, click) or reading its
global assignments. We read the same from the syntax tree: ``script_info(path)`` gives
the flags dest Guild would pick, the imported globals, the argparse and click options
with their attributes and lines, and whether the reading is *complete*: when it is not
(a parser built in another module, option names computed at run time, subcommands), the
operation's flag set must stay open — a flag we cannot see may exist.

Shared by the analysis (completion, hover, checks, go-to-definition) and the executor
(planning a run). Results are cached per file version (path, mtime, size).
"""

from __future__ import annotations

import ast
import os
import shlex
import stat
import time
from typing import Any, Dict, Optional, Tuple

_ARG_TYPES = {"str": "string", "float": "float", "int": "int", "bool": "boolean"}
_CLICK_TYPES = {"str": "string", "STRING": "string", "float": "float", "FLOAT": "float",
                "int": "int", "INT": "int", "bool": "boolean", "BOOL": "boolean"}
_ARGPARSE_ACTIONS = ("store", "store_true", "store_false", "BooleanOptionalAction")
MAX_SCRIPT_BYTES = 2_000_000
_CACHE_MAX = 512
_script_cache: Dict[Tuple[str, int, int], dict] = {}


def split_main(op) -> Tuple[str, list]:
    """`[DIR/]MODULE [ARG...]` -> (module path spec, args); implicit main = name with - -> _."""
    main = op.main
    if not main:
        name = op.name
        if name.endswith(".py"):
            name = name[:-3]
        return name.replace("-", "_"), []
    if not any(c in main for c in "'\"\\"):
        parts = main.split()  # shlex gives the same here, 20 times faster
    else:
        try:
            parts = shlex.split(main)
        except ValueError:
            parts = main.split()
    if not parts:
        return "", []
    return parts[0], parts[1:]


def module_source(project_dir: Optional[str], module: str) -> Optional[str]:
    """The file Guild runs for ``module`` (``pkg.train`` or ``dir/train``), if it exists."""
    if not project_dir or not module:
        return None
    d, _, mod = module.rpartition("/")
    base = os.path.join(project_dir, d) if d else project_dir
    rel = mod.replace(".", os.sep)
    for cand in (os.path.join(base, rel + ".py"), os.path.join(base, rel, "__main__.py")):
        if os.path.isfile(cand):
            return cand
    return None


_FILE, _DIR, _OTHER = 1, 2, 3  # kinds of directory entries (_OTHER: a symbolic link, or unknown)
_dir_cache: Dict[str, Tuple[tuple, Dict[str, Any]]] = {}
_EMPTY: Dict[str, Any] = {"\0lower": frozenset()}
_DIR_CACHE_MAX = 256
# SourceFinder.find's results by (project directory, module), with the listings they read
_found: Dict[Tuple[str, str], Tuple[tuple, Optional[str]]] = {}
_FOUND_MAX = 50_000
# A listing is kept for the next pass only when its directory had not changed for this long
# when it was read: a change within the file system's timestamp granularity after the
# reading would leave the directory's mtime as it was (as git's "racily clean" entries).
_SETTLED_NS = 2_000_000_000


class SourceFinder:
    """``module_source`` for the many operations of one guild file, in one pass: each
    directory is listed (``os.scandir``) instead of two ``stat`` calls per operation, at
    most once per pass, and its listing (and what was found in it) is reused by the next
    pass while the directory's own ``stat`` (mtimes, inode, device) is unchanged. Symbolic
    links, names only a case-insensitive or normalizing file system could match, and
    module specs that are not plain relative names are checked with ``os.path.isfile`` as
    ``module_source`` does."""

    def __init__(self, project_dir: Optional[str]):
        self.project_dir = project_dir
        self._seen: Dict[str, Optional[Dict[str, int]]] = {}  # this pass's listings
        self._asked = False
        # was the last find()'s result read from listings only (what same_listings() checks),
        # not from the file system asked directly
        self.kept = False

    def find(self, module: str) -> Optional[str]:
        project = self.project_dir
        if not project or not module:
            self.kept = True
            return None
        hit = _found.get((project, module))
        if hit is not None:
            deps, result = hit
            seen = self._seen
            for p, entries in deps:
                e = seen[p] if p in seen else self._listing(p)
                if e is not entries:
                    break
            else:
                self.kept = True
                return result  # the same listings (objects) as when it was found
        deps: list = []
        self._asked = False
        result = self._find(module, deps)
        self.kept = not self._asked and all(e is _EMPTY or _dir_cache.get(p, (0, None))[1] is e for p, e in deps)
        if self.kept:
            if len(_found) >= _FOUND_MAX:
                _found.clear()
            _found[(project, module)] = (tuple(deps), result)
        return result

    def same_listings(self, listings: Dict[str, Any]) -> bool:
        """Does each directory of `listings` (path -> listing, as `listings()` gave them
        after an earlier pass) still give the very same listing? Then every result that
        was `kept` then is what find() would say now."""
        for path, entries in listings.items():
            if self._listing(path) is not entries:
                return False
        return True

    def listings(self) -> Dict[str, Any]:
        """The directories this pass listed, and their listings (see same_listings)."""
        return dict(self._seen)

    def _find(self, module: str, deps: list) -> Optional[str]:
        """The file, appending to `deps` each (directory, listing) it read; sets
        `_asked` when the file system had to be asked directly (the result is not kept)."""
        project = self.project_dir
        d, _, mod = module.rpartition("/")
        rel = mod.replace(".", os.sep)
        parts = (d.split("/") if d else []) + rel.split("/")
        if os.sep != "/" or any(p in ("", ".", "..") or not p.isascii() for p in parts):
            self._asked = True
            return module_source(project, module)
        base = os.path.join(project, d) if d else project
        path = project
        entries = self._listing(path)
        deps.append((path, entries))
        for p in parts[:-1]:
            kind = self._kind(entries, p)
            if kind == _OTHER:
                self._asked = True
                return module_source(project, module)
            if kind != _DIR:
                return None  # neither candidate can exist
            path = os.path.join(path, p)
            entries = self._listing(path)
            deps.append((path, entries))
        last = parts[-1]
        kind = self._kind(entries, last + ".py")
        if kind == _FILE:
            return os.path.join(base, rel + ".py")
        if kind == _OTHER:
            self._asked = True
            cand = os.path.join(base, rel + ".py")
            if os.path.isfile(cand):
                return cand
        kind = self._kind(entries, last)
        if kind == _DIR:
            path = os.path.join(path, last)
            entries = self._listing(path)
            deps.append((path, entries))
            kind = self._kind(entries, "__main__.py")
        elif kind != _OTHER:
            return None  # no such directory
        if kind == _FILE:
            return os.path.join(base, rel, "__main__.py")
        if kind == _OTHER:
            self._asked = True
            cand = os.path.join(base, rel, "__main__.py")
            if os.path.isfile(cand):
                return cand
        return None

    @staticmethod
    def _kind(entries: Optional[Dict[str, int]], name: str) -> Optional[int]:
        if entries is None:
            return _OTHER  # not listable: ask the file system itself
        kind = entries.get(name)
        if kind is None and name.lower() in entries["\0lower"]:
            return _OTHER  # another case of the same name (a case-insensitive file system?)
        return kind

    def _listing(self, path: str) -> Optional[Dict[str, int]]:
        if path in self._seen:
            return self._seen[path]
        self._seen[path] = entries = _list_dir(path)
        return entries


def _list_dir(path: str) -> Optional[Dict[str, int]]:
    """{name: kind} of a directory's entries (plus "\\0lower": their lower-case names),
    an empty listing when it does not exist or is no directory, None when it cannot be read."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return _EMPTY
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return _EMPTY
    sig = (st.st_mtime_ns, st.st_ino, st.st_dev, st.st_ctime_ns)
    hit = _dir_cache.get(path)
    if hit is not None and hit[0] == sig:
        return hit[1]
    entries: Dict[str, Any] = {}
    try:
        with os.scandir(path) as it:
            for e in it:
                if e.is_symlink():
                    kind = _OTHER
                elif e.is_dir(follow_symlinks=False):
                    kind = _DIR
                elif e.is_file(follow_symlinks=False):
                    kind = _FILE
                else:
                    continue  # a socket, a fifo, a device: no script
                entries[e.name] = kind
    except OSError:
        return None
    entries["\0lower"] = {n.lower() for n in entries}
    if time.time_ns() - st.st_mtime_ns > _SETTLED_NS:
        if len(_dir_cache) >= _DIR_CACHE_MAX:
            _dir_cache.clear()
        _dir_cache[path] = (sig, entries)
    return entries


def _unreadable() -> dict:
    return {"dest": "args", "globals": {}, "lines": {}, "complete": False, "readable": False}


def script_info(path: Optional[str]) -> dict:
    """What Guild would import from a script, read statically::

        {'dest': 'args'|'globals'|'args:click',
         'globals': {name: literal},          # top-level literal assignments
         'argparse': {name: attrs},           # dest 'args' only
         'click': {name: attrs},              # dest 'args:click' only
         'lines': {name: (line, col)},        # 0-based place of each flag's definition
         'complete': bool,                    # every flag Guild could import is here
         'readable': bool}
    """
    if not path:
        return _unreadable()
    try:
        st = os.stat(path)
        key = (path, st.st_mtime_ns, st.st_size)
    except OSError:
        return _unreadable()
    hit = _script_cache.get(key)
    if hit is not None:
        return hit
    info = _read(path, st.st_size)
    if len(_script_cache) >= _CACHE_MAX:
        _script_cache.clear()
    _script_cache[key] = info
    return info


def _read(path: str, size: int) -> dict:
    if size > MAX_SCRIPT_BYTES:
        return _unreadable()
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError):
        return _unreadable()
    info: dict = {"dest": "globals", "globals": {}, "lines": {}, "complete": True, "readable": True}
    imports = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imports.add(node.module)
    # Guild's test is on the imported module names as written (python_util.Script.imports)
    if "argparse" in imports:
        info["dest"] = "args"
    elif "click" in imports:
        info["dest"] = "args:click"
    if info["dest"] == "args":
        info["argparse"], complete, lines = _argparse_flags(tree)
        info["complete"] = complete
        info["lines"].update(lines)
    elif info["dest"] == "args:click":
        info["click"], complete, lines = _click_flags(tree)
        info["complete"] = complete
        info["lines"].update(lines)
    glines = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        try:
            val = _param_val(node.value)
        except TypeError:
            continue
        for target in node.targets:  # `i = j = 3`: both, as Guild
            if not isinstance(target, ast.Name):
                continue
            name = target.id
            if not name.startswith("_") and not isinstance(val, dict) and name not in info["globals"]:
                info["globals"][name] = val
                glines[name] = (target.lineno - 1, target.col_offset)
    if info["dest"] == "globals":
        info["lines"] = glines
    return info


def _param_val(node) -> Any:
    """Guild's python_util.ast_param_val: the global assignments Guild imports as flags are
    str, int, float, bool and None literals (`-1`, `+1` too) and lists of them; anything else
    (tuples, `...`, `1 + 2j`, calls, expressions) is not a flag. Raises TypeError."""
    if isinstance(node, ast.Constant):
        v = node.value
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        raise TypeError(node)
    if isinstance(node, ast.List):
        return [_param_val(x) for x in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) \
            and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    if isinstance(node, ast.Dict):
        return {_param_val(k) if k is not None else None: _param_val(v)
                for k, v in zip(node.keys, node.values)}
    raise TypeError(node)


def _keywords(call: ast.Call) -> Tuple[dict, bool]:
    """Literal keyword arguments of a call (``("name", id)`` for a bare name, ``("?",)``
    for anything else) and whether the call has ``**kwargs``."""
    kw: dict = {}
    splat = False
    for k in call.keywords:
        if k.arg is None:
            splat = True
            continue
        try:
            kw[k.arg] = ast.literal_eval(k.value)
        except Exception:
            if isinstance(k.value, ast.Name):
                kw[k.arg] = ("name", k.value.id)
            elif isinstance(k.value, ast.Attribute):
                kw[k.arg] = ("name", k.value.attr)
            else:
                kw[k.arg] = ("?",)
    return kw, splat


def _literal_strings(args) -> Optional[list]:
    out = []
    for a in args:
        if isinstance(a, ast.Starred) or not (isinstance(a, ast.Constant) and isinstance(a.value, str)):
            return None
        out.append(a.value)
    return out


def _literal_call(call: ast.Call) -> Optional[Tuple[list, dict]]:
    """(option names, keywords) of an `add_argument`/`option` call whose names are string
    literals and that has no ``**kwargs``; None when it cannot be read statically."""
    opts = _literal_strings(call.args)
    kw, splat = _keywords(call)
    return None if opts is None or splat else (opts, kw)


def _method(node, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name


def _argparse_flags(tree) -> Tuple[dict, bool, dict]:
    """Flags Guild would import from `parser.add_argument(...)` calls: long options with
    literal arguments. Incomplete when a parser comes from elsewhere or names are computed."""
    flags: dict = {}
    lines: dict = {}
    complete = True
    found_parser = False
    parsers = set()  # names bound to a parser or an argument group
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            f = node.value.func
            fname = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if fname in ("ArgumentParser", "add_argument_group", "add_mutually_exclusive_group"):
                parsers.update(t.id for t in node.targets if isinstance(t, ast.Name))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        fname = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if fname == "ArgumentParser":
            found_parser = True
            kw, splat = _keywords(node)
            if "parents" in kw or splat:
                complete = False  # options inherited from parsers we may not see
            continue
        if fname in ("add_subparsers", "parse_intermixed_args"):
            complete = False
            continue
        if fname != "add_argument":
            # a parser handed to a helper may get options we do not see
            if any(isinstance(a, ast.Name) and a.id in parsers for a in node.args) \
                    or any(isinstance(k.value, ast.Name) and k.value.id in parsers for k in node.keywords):
                complete = False
            continue
        read = _literal_call(node)
        if read is None:
            complete = False
            continue
        opts, kw = read
        name = next((o[2:] for o in opts if o.startswith("--")), None)
        if not name:
            continue  # a positional argument or a short option only: not a flag in Guild
        action = kw.get("action", "store")
        if isinstance(action, tuple) and action[:1] == ("name",):
            action = action[1]
        if action not in _ARGPARSE_ACTIONS:
            continue  # append, count, help, version...: Guild imports no flag for them
        attrs: dict = {}
        if isinstance(kw.get("help"), str):
            attrs["description"] = kw["help"]
        if "default" in kw and kw["default"] != ("?",) and not isinstance(kw["default"], tuple) \
                and kw["default"] is not None:
            attrs["default"] = kw["default"]
        if isinstance(kw.get("choices"), (list, tuple)) and not (kw["choices"][:1] in (("name",), ("?",))):
            attrs["choices"] = list(kw["choices"])
        if kw.get("required") is True:
            attrs["required"] = True
        t = kw.get("type")
        if isinstance(t, tuple) and t[:1] == ("name",) and t[1] in _ARG_TYPES:
            attrs["type"] = _ARG_TYPES[t[1]]
        if action == "store_true":
            attrs.update({"arg-switch": True, "choices": [True, False]})
            attrs.setdefault("default", False)
        elif action == "store_false":
            attrs.update({"arg-switch": False, "choices": [True, False]})
            attrs.setdefault("default", True)
        elif action == "BooleanOptionalAction":
            attrs["choices"] = [True, False]
        nargs = kw.get("nargs")
        if nargs in ("+", "*") or (isinstance(nargs, int) and nargs > 1):
            attrs["arg-split"] = True
        flags[name] = attrs
        lines[name] = (node.lineno - 1, node.col_offset)
    if not found_parser:
        complete = False  # argparse imported but the parser is built elsewhere
    return flags, complete, lines


def _click_flags(tree) -> Tuple[dict, bool, dict]:
    """Flags Guild would import from `@click.option(...)` decorators."""
    flags: dict = {}
    lines: dict = {}
    complete = True
    commands = 0
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        decos = node.decorator_list
        is_cmd = any(
            (isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in ("command", "group"))
            or (isinstance(d, ast.Attribute) and d.attr in ("command", "group")) for d in decos)
        if not is_cmd:
            if any(_method(d, "option") for d in decos):
                complete = False  # options on a function we cannot tie to the command
            continue
        commands += 1
        if any(_method(d, "group") or (isinstance(d, ast.Attribute) and d.attr == "group") for d in decos):
            complete = False
        for d in decos:
            if not isinstance(d, ast.Call):
                if not (isinstance(d, ast.Attribute) and d.attr in ("command", "group")):
                    complete = False  # a custom decorator may add options
                continue
            f = d.func
            dname = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if dname in ("command", "group", "pass_context", "version_option", "help_option", "argument"):
                continue
            if dname != "option":
                complete = False
                continue
            read = _literal_call(d)
            if read is None:
                complete = False
                continue
            opts, kw = read
            name = None
            for o in opts:
                for part in o.split("/"):
                    part = part.strip()
                    if part.startswith("--") and name is None:
                        name = part[2:]
            if not name:
                continue
            attrs: dict = {}
            if isinstance(kw.get("help"), str):
                attrs["description"] = kw["help"]
            default = kw.get("default")
            if "default" in kw and not isinstance(default, tuple) and default is not None:
                attrs["default"] = default
            if kw.get("required") is True:
                attrs["required"] = True
            t = kw.get("type")
            if isinstance(t, tuple) and t[:1] == ("name",) and t[1] in _CLICK_TYPES:
                attrs["type"] = _CLICK_TYPES[t[1]]
            elif "type" not in kw and "default" in attrs and not isinstance(attrs["default"], (list, dict)):
                # click infers the type from the default
                attrs["type"] = {bool: "boolean", int: "int", float: "float", str: "string"}.get(
                    type(attrs["default"]))
                if attrs["type"] is None:
                    del attrs["type"]
            elif "type" in kw:
                ch = next((k for k in (d.keywords or []) if k.arg == "type"), None)
                if ch is not None and _method(ch.value, "Choice"):
                    vals = _literal_strings(ch.value.args[0].elts) if ch.value.args and isinstance(
                        ch.value.args[0], (ast.List, ast.Tuple)) else None
                    if vals is None:
                        complete = False
                    else:
                        attrs["choices"] = vals
            if kw.get("is_flag") is True or "/" in opts[0]:
                attrs["arg-switch"] = not attrs.get("default", False)
                attrs["type"] = "boolean"
            flags[name] = attrs
            lines[name] = (d.lineno - 1, d.col_offset)
    if commands != 1:
        complete = False  # no command, or several: which one runs is decided at run time
    return flags, complete, lines


def imported_global_attrs(val: Any) -> dict:
    """An imported global's flag attrs; a list is a splittable value, not a batch (Guild's
    flags_import_util.flag_data_for_val gives it `arg-split`)."""
    return {"default": val, "arg-split": True} if isinstance(val, list) else {"default": val}


def type_for_val(val: Any) -> Optional[str]:
    if isinstance(val, str):
        return "string"
    if isinstance(val, bool):
        return "boolean"
    if isinstance(val, (int, float)):
        return "number"
    return None


def script_flags(info: dict) -> Dict[str, dict]:
    """The flags Guild imports from a script with ``flags-import: all``: name -> attrs."""
    if info["dest"] == "globals":
        return {n: imported_global_attrs(v) for n, v in info["globals"].items()}
    if info["dest"] == "args":
        return {n: dict(a) for n, a in (info.get("argparse") or {}).items()}
    if info["dest"] == "args:click":
        return {n: dict(a) for n, a in (info.get("click") or {}).items()}
    return {}
