"""Bootstrap for `main` operations (stdlib only; runs in the operation's interpreter).

    python -u _globals_main.py MODULE [ARG...] -- [--flag value ...]   (flags-dest: globals)
    python -u _globals_main.py --args MODULE [ARG...]                  (module in a sub-dir)

globals: the flag values come in GUILDLS_GLOBALS as a Python literal (repr) written by the
runner; the module's source is compiled with its first top-level assignment of each flag
name removed (as Guild's op_main does), so `lr = 0.1` in the script yields the flag value.
sys.argv = [script] + ARGs. Kept import-light (no `ast`, `json`, `importlib.util`): it runs
once per step and its start-up time is most of the executor's per-step overhead.
"""

import _ast
import os
import sys


def _fail(msg):
    sys.stderr.write(f"guild: {msg}\n")
    sys.exit(1)


def _filter(body, names, removed):
    out = []
    for node in body:
        if isinstance(node, _ast.Assign):
            drop = False
            for t in node.targets:  # Guild's _node_filter_for_globals (`i = j = 3` too)
                if not isinstance(t, _ast.Name) or t.id in removed:
                    break
                if t.id in names:
                    removed.add(t.id)
                    drop = True
                    break
            if drop:
                continue
        elif isinstance(node, _ast.If):
            node.body = _filter(node.body, names, removed)
            if not node.body:
                p = _ast.Pass()
                p.lineno, p.col_offset = node.lineno, node.col_offset
                p.end_lineno, p.end_col_offset = node.lineno, node.col_offset
                node.body = [p]
        out.append(node)
    return out


def _find(mod):
    rel = mod.replace(".", "/")
    for base in sys.path:
        base = base or "."
        for cand in (rel + ".py", rel + "/__main__.py"):
            p = os.path.join(base, cand)
            if os.path.isfile(p):
                return p
    try:
        import importlib.util

        spec = importlib.util.find_spec(mod)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None else None


def main():
    args = sys.argv[1:]
    args_mode = bool(args) and args[0] == "--args"
    if args_mode:
        args = args[1:]
    if not args:
        _fail("missing module")
    mod = args[0]
    rest = args[1:]
    if "--" in rest and not args_mode:
        rest = rest[: rest.index("--")]
    sys.path[0] = os.getcwd()
    mdir = os.environ.get("GUILDLS_MAIN_DIR")
    if mdir:
        for base in (os.environ.get("PROJECT_DIR", ""), os.getcwd()):
            if base:
                sys.path.insert(0, os.path.join(base, mdir))
    if args_mode:
        import runpy

        sys.argv = [mod] + rest
        runpy.run_module(mod, run_name="__main__", alter_sys=True)
        return
    path = _find(mod)
    if not path:
        _fail(f"No module named {mod}")
    flags = eval(os.environ.get("GUILDLS_GLOBALS") or "{}",
                 {"__builtins__": {}, "inf": float("inf"), "nan": float("nan")})
    with open(path, "rb") as f:
        src = f.read()
    tree = compile(src, path, "exec", _ast.PyCF_ONLY_AST, dont_inherit=True)
    tree.body = _filter(tree.body, set(flags), set())
    code = compile(tree, path, "exec", dont_inherit=True)
    pkg = mod.rpartition(".")[0]
    if pkg:
        __import__(pkg)
    g = dict(flags)
    g.update({"__name__": "__main__", "__file__": path, "__package__": pkg or None,
              "__builtins__": __builtins__})
    sys.argv = [path] + rest
    try:
        exec(code, g)
    except SystemExit:
        raise
    except BaseException as e:
        import traceback

        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next
        traceback.print_exception(type(e), e, tb)
        sys.exit(1)


if __name__ == "__main__":
    main()
