"""Generate large guild files for the benchmarks.

Two shapes, both error-free guild files of ``n_ops`` top-level operations:

- ``guildfile(n)`` ("flat"): operations with typed flags and a file dependency, every fifth
  one a workflow of three steps over the operations before it;
- ``realistic(n)``: what grown projects look like: operations chained by ``requires:
  operation:`` sources (each stage needs the runs of the one or two before it), and
  workflows whose steps pass their own flags down as ``${refs}``, both in step strings and
  in ``flags:`` mappings.
"""


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


def realistic(n_ops: int) -> str:
    out = []
    stages = []  # names of the non-workflow operations so far
    for i in range(n_ops):
        if i % 5 == 4 and len(stages) >= 3:
            a, b, c = stages[-3], stages[-2], stages[-1]
            out.append(
                f"pipeline{i}:\n"
                f"  description: Pipeline {i}\n"
                f"  flags:\n"
                f"    lr: 0.05\n"
                f"    epochs: {{default: 5, type: int}}\n"
                f"    opt:\n      default: adam\n      choices: [sgd, adam]\n"
                f"  steps:\n"
                f"    - {a} rows=${{epochs}}\n"
                f"    - run: {b}\n"
                f"      flags:\n"
                f"        lr: ${{lr}}\n"
                f"        epochs: ${{epochs}}\n"
                f"        opt: ${{opt}}\n"
                f"    - run: {c}\n"
                f"      flags:\n        lr: 0.5\n        epochs: 2\n"
                f"      label: '{c} from pipeline {i}'\n"
            )
            continue
        if i % 5 == 0:
            name = f"prepare{i}"
            req = f"    - operation: {stages[-1]}\n      select: data/.*\\.csv\n" if stages else ""
            out.append(
                f"{name}:\n"
                f"  description: Prepare data set {i}\n"
                f"  main: prepare --data ${{rows}}\n"
                f"  flags:\n"
                f"    rows: {{default: 1000, type: int, min: 1}}\n"
                f"    seed: 42\n"
                f"  requires:\n{req}    - file: raw/part{i}.csv\n"
            )
        else:
            name = f"train{i}"
            deps = stages[-2:] or []
            req = "".join(
                f"    - operation: {d}\n      name: {d}-runs\n      target-path: inputs/{d}\n" for d in deps)
            out.append(
                f"{name}:\n"
                f"  description: Train model {i}\n"
                f"  main: train\n"
                f"  flags:\n"
                f"    lr:\n      default: 0.01\n      type: float\n      min: 0\n      max: 1\n"
                f"    epochs: {{default: 10, type: int}}\n"
                f"    opt:\n      default: sgd\n      choices: [sgd, adam]\n"
                f"    rows: 100\n"
                f"  output-scalars:\n    - loss: 'loss: (\\value)'\n"
                + (f"  requires:\n{req}" if req else "")
            )
        stages.append(name)
    return "".join(out)


GENERATORS = {"flat": guildfile, "realistic": realistic}
