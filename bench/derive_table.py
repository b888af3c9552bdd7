#!/usr/bin/env python3
"""What each catalogue input becomes under its family's trained transformer: one table.

  python bench/derive_table.py --data_dir=/tmp/tfds_nat --root_dir=/tmp/derived \\
      --runs=loose_end=/tmp/learning/loose_end/quickstart/seed_1,enas=...

For every family given (a finished bin/train run of its quickstart gin file,
nat_tf.search.runs.QUICKSTARTS) and every catalogue input of that family, bin/derive's
job runs in-process into <root_dir>/<family>/<input> (genotype, cost.json, cells.png,
derivation.json). Printed per input: edges changed, the held-out supernet accuracy of
the input and of the kept candidate, and parameters and multiply-adds before and after
on the CIFAR DARTS network (C=36, L=20) and, for a hand-crafted block, on the network it
belongs to. The rows go to <root_dir>/derive_table.json as well.
"""

import json
import os

from absl import flags

from nat_tf import cli
from nat_tf.search import derive
from nat_tf.search import runs
from nat_tf.space import catalogue
from nat_tf.space import cost
from nat_tf.space import handcrafted

flags.DEFINE_string("data_dir", None, "TFDS data dir holding digits.")
flags.DEFINE_list("runs", [], "family=run_dir pairs; families: " + ", ".join(runs.QUICKSTARTS))
FLAGS = flags.FLAGS

# The first published network built of each hand-crafted block (resnet20 for ResBlock).
BLOCK_NETWORKS = {}
for _network, _layout in handcrafted.LAYOUTS.items():
  BLOCK_NETWORKS.setdefault(_layout.block, _network)


def costs(before, after, network):
  """(params before, after, madds before, after) on `network`."""
  old, new = (cost.report(g, "cifar10", network=network) for g in (before, after))
  return old["params"], new["params"], old["madds"], new["madds"]


def row(family, name, derivation):
  before, after = derivation.original.genotype, derivation.chosen.genotype
  result = {"family": family, "input": name, "kept": derivation.chosen.source,
            "changed_edges": derive.changed_edges(before, after),
            "holdout_examples": derivation.holdout_examples,
            "accuracy": [derivation.original.accuracy, derivation.chosen.accuracy],
            "darts": costs(before, after, cost.DARTS)}
  if name in BLOCK_NETWORKS:
    result[BLOCK_NETWORKS[name]] = costs(before, after, BLOCK_NETWORKS[name])
  return result


def format_cost(values):
  params_before, params_after, madds_before, madds_after = values
  return (f"{params_before:,} -> {params_after:,} | "
          f"{madds_before / 1e6:.1f} M -> {madds_after / 1e6:.1f} M")


def table(rows):
  lines = ["| family | input | kept | edges changed | held-out accuracy (input -> kept) "
           "| network | params | multiply-adds |", "|" + " --- |" * 8]
  for r in rows:
    accuracy = f"{r['accuracy'][0]:.3f} -> {r['accuracy'][1]:.3f} ({r['holdout_examples']})"
    for network in [n for n in (cost.DARTS, *handcrafted.NAMES) if n in r]:
      lines.append(f"| {r['family']} | {r['input']} | {r['kept']} | {r['changed_edges']} "
                   f"| {accuracy} | {network} | {format_cost(r[network])} |")
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
