"""Bootstrap for `main` operations (stdlib only; runs in the operation's interpreter).

    python -u _globals_main.py MODULE [ARG...] -- [--flag value ...]   (flags-dest: globals)
    python -u _globals_main.py --args MODULE [ARG...]                  (module in a sub-dir)

globals: the flag values come as JSON in GUILDLS_GLOBALS; the module's source is compiled
with its first top-level assignment of each flag name removed (as Guild's op_main does), so
`lr = 0.1` in the script yields the flag's value. sys.argv = [script] + ARGs.
"""

import ast
import importlib.util
import json
import os
import runpy
import sys


def _fail(msg):
    sys.stderr.write(f"guild: {msg}\n")
    sys.exit(1)


def _filter(body, names, removed):
    out = []
    for node in body:
        if isinstance(node, ast.Assign):
            targets = node.targets
            if len(targets) == 1 and isinstance(targets[0], ast.Name):
                n = targets[0].id
                if n in names and n not in removed:
                    removed.add(n)
                    continue
        elif isinstance(node, ast.If):
            node.body = _filter(node.body, names, removed)
            if not node.body:
                node.body = [ast.Pass()]
        out.append(node)
    return out


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
    mdir = os.environ.get("GUILDLS_MAIN_DIR")
    if mdir:
        for base in reversed([os.getcwd(), os.environ.get("PROJECT_DIR", "")]):
            if base:
                sys.path.insert(0, os.path.join(base, mdir))
    sys.path.insert(0, os.getcwd())
    try:
        spec = importlib.util.find_spec(mod)
    except (ImportError, ValueError) as e:
        spec = None
        err = str(e)
    else:
        err = f"No module named {mod}"
    if spec is None or not spec.origin:
        _fail(err)
    path = spec.origin
    if args_mode:
        sys.argv = [path] + rest
        runpy.run_module(mod, run_name="__main__", alter_sys=True)
        return
    flags = json.loads(os.environ.get("GUILDLS_GLOBALS") or "{}")
    with open(path, encoding="utf-8") as f:
        src = f.read()
    tree = ast.parse(src, path)
    tree.body = _filter(tree.body, set(flags), set())
    code = compile(tree, path, "exec", dont_inherit=True)
    pkg = mod.rpartition(".")[0]
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
