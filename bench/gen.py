"""Generate large guild files for the benchmarks (operations with flags and workflows)."""


def guildfile(n_ops: int) -> str:
    out = []
    for i in range(n_ops):
        if i % 5 == 4 and i >= 4:
            out.append(
                f"wf{i}:\n"
                f"  description: workflow {i}\n"
                f"  flags:\n    lr: 0.1\n    epochs: 3\n"
                f"  steps:\n"
                f"    - op{i - 4} lr=${{lr}} epochs=${{epochs}}\n"
                f"    - run: op{i - 3}\n      flags:\n        lr: 0.5\n        opt: adam\n"
                f"    - op{i - 2} --label 'step {i}'\n"
            )
        else:
            out.append(
                f"op{i}:\n"
                f"  description: Operation number {i}\n"
                f"  main: train_{i}\n"
                f"  flags:\n"
                f"    lr:\n      default: 0.01\n      type: float\n      min: 0\n      max: 1\n"
                f"    epochs: {{default: 10, type: int}}\n"
                f"    opt:\n      default: sgd\n      choices: [sgd, adam]\n"
                f"  requires:\n    - file: data{i}.csv\n"
            )
    return "".join(out)
