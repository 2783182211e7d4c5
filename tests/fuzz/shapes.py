"""Hostile guild files, each small as text and costly if handled naively.

Shared by the regression tests (tests/fuzz/test_hostile.py), the fuzz harness
(tests/fuzz/fuzz_server.py) and the latency bench (bench/hostile.py).
"""


def alias_bomb(levels: int = 9, width: int = 10) -> str:
    """'Billion laughs': each anchor a list of ``width`` aliases of the previous one."""
    lines = ["- config: c", "  extra:", "    a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"    a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    lines += ["- model: m", "  operations:", "    op:", "      main: x", "      flags:",
              f"        x: {{choices: *a{levels}}}"]
    return "\n".join(lines) + "\n"


def params_bomb(levels: int = 40) -> str:
    """Params that repeat params: the text doubles at each level."""
    lines = ["- model: m", "  params:", "    p0: xxxxxxxxxx"]
    for i in range(1, levels + 1):
        lines.append(f"    p{i}: '{{{{p{i - 1}}}}}{{{{p{i - 1}}}}}'")
    lines += ["  operations:", "    op:", f"      description: '{{{{p{levels}}}}}'", "      main: x"]
    return "\n".join(lines) + "\n"


def huge_int(digits: int = 4000) -> str:
    big = "0x" + "f" * digits
    return (f"op:\n  main: x\n  flags:\n    x: {big}\n    y:\n      default: 1\n      max: {big}\n"
            f"wf:\n  steps:\n    - run: op\n      flags:\n        y: {big}\n")


def many_typos(n: int = 3000) -> str:
    """``n`` operations and a workflow of ``n`` steps naming none of them."""
    return typos_few_ops(n, n)


def extends_chain(n: int = 3000) -> str:
    out = []
    for i in range(n):
        out.append(f"- model: m{i}")
        out.append(f"  extends: m{i + 1}" if i < n - 1 else "  operations: {op: {main: x}}")
    return "\n".join(out) + "\n"


def flow_mapping(n: int = 60000) -> str:
    return "op: {" + ", ".join(f"k{i}: {i}" for i in range(n)) + "}\n"


def big_file(size: int = 10_000_000) -> str:
    parts, total, i = [], 0, 0
    while total < size:
        p = f"op{i}:\n  description: d {i}\n  main: m\n  flags:\n    a: 1\n"
        parts.append(p)
        total += len(p)
        i += 1
    return "".join(parts)


def line_separators() -> str:
    """Characters Python's str.splitlines() breaks on and LSP does not."""
    return ("op:\n  description: a\u2028b\u2029c\x85d\x0ce\x0bf\n  main: x\n"
            "  flags:\n    lr: 0.1\nwf:\n  steps: [op lr=0.2]\n")


def deep_flow_seq(n: int = 3000) -> str:
    """``[[[[...`` unclosed: libyaml stops at 1,000 levels, PyYAML's Python scanner is
    quadratic in the nesting."""
    return "[" * n


def deep_flow_map(n: int = 3000) -> str:
    return "{" * n


def deep_block_seq(n: int = 3000) -> str:
    """``- - - - ... x``: block sequences nested on one line."""
    return "- " * n + "x\n"


def deep_block_map(n: int = 3000) -> str:
    """Block mappings nested by indentation, one key a line."""
    return "".join(" " * i + f"k{i}:\n" for i in range(n))


def deep_flag_value(n: int = 999) -> str:
    """A flag value nested just below libyaml's limit (read, then too deep to convert)."""
    return "op:\n  main: x\n  flags:\n    x: " + "[" * n + "]" * n + "\n"


def typos_few_ops(ops: int = 200, n: int = 3000) -> str:
    """``n`` unknown steps against ``ops`` operations: the exhaustive did-you-mean size."""
    out = ["- model: ''", "  operations:"]
    for i in range(ops):
        out += [f"    op{i}:", "      main: m"]
    out += ["    wf:", "      steps:"]
    out += [f"        - nope{i}" for i in range(n)]
    return "\n".join(out) + "\n"


def emoji_flow_line(n: int = 2000) -> str:
    """One long line with an astral character first and ``n`` diagnostics after it (each
    position needs UTF-16 conversion: found by the fuzz run, 35 s for a rename)."""
    return "op: {\U0001F600: 1, " + ", ".join(f"k{i}: {i}" for i in range(n)) + "}\n"


ALL = {
    "alias-bomb": alias_bomb,
    "params-bomb": params_bomb,
    "huge-int": huge_int,
    "many-typos": many_typos,
    "extends-chain": extends_chain,
    "flow-mapping": flow_mapping,
    "big-file": big_file,
    "line-separators": line_separators,
    "deep [ x3000": deep_flow_seq,
    "deep { x3000": deep_flow_map,
    "deep - x3000": deep_block_seq,
    "deep map x3000": deep_block_map,
    "deep value x999": deep_flag_value,
    "200 ops+3000 typos": typos_few_ops,
    "emoji line 2000 diags": emoji_flow_line,
}
