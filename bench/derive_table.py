#!/usr/bin/env python3
"""What each catalogue input becomes under its family's trained transformer: one table.

  python bench/derive_table.py --data_dir=/tmp/tfds_nat --root_dir=/tmp/derived \\
      --runs=loose_end=/tmp/learning/loose_end/quickstart/seed_1,enas=...

For every family given (a finished bin/train run of its quickstart gin file,
nat_tf.search.runs.QUICKSTARTS) and every catalogue input of that family, bin/derive's
job runs in-process into <root_dir>/<family>/<input> (genotype, cost.json, cells.png,
derivation.json). Printed per input: the candidate kept, edges changed, the held-out
supernet accuracy of the input and of the kept candidate, and parameters and
multiply-adds before and after on every network derivation checks (the CIFAR DARTS
network at C=36, L=20, and for a hand-crafted block the networks built of it). The rows
go to <root_dir>/derive_table.json as well.
"""

import json
import os

from absl import flags

from nat_tf import cli
from nat_tf.analysis import derive
from nat_tf.search import runs
from nat_tf.space import catalogue

flags.DEFINE_string("data_dir", None, "TFDS data dir holding digits.")
flags.DEFINE_list("runs", [], "family=run_dir pairs; families: " + ", ".join(runs.QUICKSTARTS))
FLAGS = flags.FLAGS


def row(family, name, derivation):
  before, after = derivation.original.genotype, derivation.chosen.genotype
  costs = derive.cost_table(before, after)
  del costs["imagenet"]  # the table stays on CIFAR-sized networks
  return {"family": family, "input": name, "kept": derivation.chosen.source,
          "changed_edges": derive.changed_edges(before, after),
          "holdout_examples": derivation.holdout_examples,
          "accuracy": [derivation.original.accuracy, derivation.chosen.accuracy],
          "dropped_as_costlier": len(derivation.dropped), "costs": costs}


def table(rows):
  lines = ["| family | input | kept | edges changed | held-out accuracy (input -> kept) "
           "| network | params | multiply-adds |", "|" + " --- |" * 8]
  for r in rows:
    accuracy = f"{r['accuracy'][0]:.3f} -> {r['accuracy'][1]:.3f} ({r['holdout_examples']})"
    for network, costs in r["costs"].items():
      before, after = costs["before"], costs["after"]
      lines.append(f"| {r['family']} | {r['input']} | {r['kept']} | {r['changed_edges']} "
                   f"| {accuracy} | {network} | {before['params']:,} -> {after['params']:,} "
                   f"| {before['madds'] / 1e6:.1f} M -> {after['madds'] / 1e6:.1f} M |")
  return "\n".join(lines)


def main():
  root = cli.root_dir()
  bindings = [f"SearchSetup.data_dir = '{FLAGS.data_dir}'"] if FLAGS.data_dir else []
  rows = []
  for pair in FLAGS.runs:
    family, _, run_dir = pair.partition("=")
    if family not in runs.QUICKSTARTS or not run_dir:
      cli.fail(f"--runs entry {pair!r} is not family=run_dir with a family of "
               f"{list(runs.QUICKSTARTS)}")
    for name in runs.QUICKSTARTS[family][1]:
      output_dir = os.path.join(root, family, name)
      derivation = derive.derive_run(run_dir, catalogue.load(name), output_dir, name,
                                     bindings=bindings)
      rows.append(row(family, name, derivation))
      print(table(rows[-1:]), flush=True)
  print(table(rows))
  with open(os.path.join(root, "derive_table.json"), "w") as handle:
    json.dump(rows, handle, indent=1)


if __name__ == "__main__":
  cli.run(main)
