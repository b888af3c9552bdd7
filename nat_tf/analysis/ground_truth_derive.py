"""bin/derive on a search run on NAS-Bench-201's table: the input cell, the policy's
greedy transformation and `samples` sampled ones, each with its table accuracy (on the
run's dataset) and its network's cost; the most accurate is kept, the cheaper of equals,
the input among them, so the kept cell is never less accurate than the input and, since
no valid action adds cost, never more expensive.

Choosing by the table is NAT's "best of K" with K = samples + 1 table queries (the
greedy's included); bench/nasbench201_report.py measures how that compares with random
search and hill-climbing given the same queries.
"""

import os

from nat_tf import atomic
from nat_tf.analysis import derive
from nat_tf.errors import UsageError
from nat_tf.search import runs
from nat_tf.space import nasbench201

OUTPUT_FILES = ("cell.txt", "derivation.json")


def derive_run(run_dir, cell_text, output_dir, policy_dir=None, bindings=(), checkpoint=None,
               samples=10):
  """Restore `run_dir`, derive the cell `cell_text` (a benchmark string or a name of
  nasbench201.NAMED), write `output_dir`; returns the derivation as a dict."""
  atomic.check_replaceable(output_dir, OUTPUT_FILES)
  cell = nasbench201.lookup(cell_text)
  setup, _ = runs.load(run_dir, bindings, checkpoint, ground_truth_ok=True)
  greedy, sampling = derive.run_policies(setup, policy_dir)
  named = [("input", cell), ("greedy", setup.transform(greedy, cell)[0])]
  named += [(f"sample {i}", c) for i, c in enumerate(setup.transform(sampling, cell, samples))]
  candidates = [{"source": name, **setup.describe(c)} for name, c in named]
  kept = max(candidates, key=lambda c: (c["accuracy"], -c["madds"], -c["params"]))
  before = candidates[0]
  if kept["params"] > before["params"] or kept["madds"] > before["madds"]:
    raise UsageError(f"the kept cell {kept['cell']} costs more than the input; this breaks the "
                     "action masks' guarantee and is a bug")
  derivation = {"dataset": setup.dataset, "input": before, "kept": kept,
                "candidates": candidates}
  with atomic.directory(output_dir) as folder:
    atomic.write_text(os.path.join(folder, "cell.txt"), kept["cell"] + "\n")
    atomic.write_json(os.path.join(folder, "derivation.json"), derivation)
  return derivation


def format_report(derivation):
  """Every candidate with its table accuracy and cost, the kept one marked."""
  lines = [f"kept: the most accurate on the NAS-Bench-201 table ({derivation['dataset']}), the "
           "input included; cost of the benchmark's network:",
           f"  {'candidate':<10} {'accuracy':>8} {'params':>10} {'madds':>12}  cell"]
  for c in derivation["candidates"]:
    mark = "*" if c == derivation["kept"] else " "
    lines.append(f"{mark} {c['source']:<10} {c['accuracy']:8.2f} {c['params']:10,} "
                 f"{c['madds']:12,}  {c['cell']}")
  before, kept = derivation["input"], derivation["kept"]
  lines.append(f"input {before['cell']}: {before['accuracy']:.2f}%; kept {kept['cell']}: "
               f"{kept['accuracy']:.2f}%, params {before['params']:,} -> {kept['params']:,}, "
               f"multiply-adds {before['madds']:,} -> {kept['madds']:,}")
  return "\n".join(lines)
