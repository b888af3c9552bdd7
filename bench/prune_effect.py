#!/usr/bin/env python3
"""What pruning dead nodes changes in a derivation: one table per input.

  python bench/prune_effect.py --run_dir=runs/quickstart --genotypes=DARTS_V2 \\
      --output_dir=/tmp/prune_effect

Draws what bin/compare draws for seed 0 (NAT's greedy and sampled transformations,
random search with as many, the heuristics) twice: as the code does (pruned,
`Genotype.pruned`) and with pruning switched off. Every candidate of both is scored in
one pass over the held-out split, so the table shows per candidate its dead outputs,
how many edges pruning nulls,
whether pruning changed any held-out image's result (the supernet scores a pruned cell
exactly as the unpruned one), and the CIFAR DARTS network's parameters and
multiply-adds with and without pruning; then what each Selection rule keeps of NAT's
and random search's candidates either way. The kept genotypes go to
<output_dir>/<input>/<method>-<rule>-{pruned,unpruned}.json, for bin/train_final.
"""

import json
import os
from unittest import mock

from absl import flags
import numpy as np

from nat_tf import cli
from nat_tf.analysis import baselines
from nat_tf.analysis import compare
from nat_tf.analysis import derive
from nat_tf.search import holdout
from nat_tf.search import runs
from nat_tf.space import catalogue
from nat_tf.space import genotype as genotype_lib
from nat_tf.space import genotype_format

flags.DEFINE_string("run_dir", None, "A finished bin/train run folder.")
flags.DEFINE_list("genotypes", ["DARTS_V2"], "Inputs: catalogue names or genotype files.")
flags.DEFINE_string("output_dir", "/tmp/prune_effect", "Where the table and kept genotypes go.")
flags.DEFINE_list("rules", ["accuracy", "not_worse"], "Selection rules to keep by.")
FLAGS = flags.FLAGS


def unpruned_proposals(search, genotype, policies):
  """{method: [(source, genotype)]} of compare's seed 0, with pruning switched off."""
  editor = search.editor
  with mock.patch.object(genotype_lib.Genotype, "pruned", lambda self: self):
    groups = dict(compare.searched_proposals(editor, genotype, policies, 0)[0])
    groups["heuristics"] = baselines.heuristic_proposals(genotype, editor.action_space)
    return groups


def dead(genotype):
  """{cell: its dead output nodes}, cells without any left out."""
  return {name: list(cell.dead_outputs()) for name, cell in genotype.cells.items()
          if cell.dead_outputs()}


def kept_genotypes(original, unpruned, pruned, groups):
  """{'<method>-<rule>-<unpruned|pruned>': Candidate} kept by each rule of --rules."""
  kept, start = {}, 0
  for method, group in groups.items():
    span = slice(start, start + len(group))
    start = span.stop
    if method not in (compare.NAT, compare.RANDOM):
      continue
    for rule in FLAGS.rules:
      for variant, pool in (("unpruned", unpruned), ("pruned", pruned)):
        key = f"{method.replace(' ', '_')}-{rule}-{variant}"
        kept[key] = derive.Selection(rule=rule)(original, pool[span])
  return kept


def effect(search, name, genotype, policies):
  """The table's dict for one input (module doc)."""
  groups = unpruned_proposals(search, genotype, policies)
  named = [pair for group in groups.values() for pair in group]
  candidates = derive.scored(holdout.HoldoutScorer(search),
                             [("input", genotype)] + named + [(s, g.pruned()) for s, g in named])
  original, unpruned, pruned = candidates[0], candidates[1:len(named) + 1], candidates[-len(named):]
  rows = [{"source": u.source, "dead_outputs": dead(u.genotype),
           "nulled_edges": derive.changed_edges(u.genotype, p.genotype),
           "same_holdout_results": bool(np.array_equal(u.correct, p.correct)),
           "accuracy": [u.accuracy, p.accuracy], "params": [u.params, p.params],
           "madds": [u.madds, p.madds],
           "genotype": [genotype_format.to_literal(c.genotype) for c in (u, p)]}
          for u, p in zip(unpruned, pruned)]
  kept = kept_genotypes(original, unpruned, pruned, groups)
  folder = os.path.join(FLAGS.output_dir, name)
  os.makedirs(folder, exist_ok=True)
  for key, chosen in kept.items():
    with open(os.path.join(folder, key + ".json"), "w") as stream:
      stream.write(genotype_format.to_json(chosen.genotype) + "\n")
  return {"input": name, "holdout_examples": original.correct.size,
          "input_accuracy": original.accuracy, "input_params": original.params,
          "input_madds": original.madds, "candidates": rows,
          "kept": {key: {"source": c.source, "accuracy": c.accuracy, "params": c.params,
                         "madds": c.madds, "dead_outputs": dead(c.genotype)}
                   for key, c in kept.items()}}


def print_table(table):
  print(f"{table['input']}: input accuracy {table['input_accuracy']:.4f} on "
        f"{table['holdout_examples']} held-out images, {table['input_params']:,} params, "
        f"{table['input_madds'] / 1e6:.1f} M madds (CIFAR DARTS C=36 L=20)")
  print(f"  {'candidate':<16} {'dead outputs':<30} nulled same  accuracy  params unpruned -> pruned"
        "   madds (M)")
  for row in table["candidates"]:
    print(f"  {row['source']:<16} {json.dumps(row['dead_outputs']):<30} {row['nulled_edges']:<6} "
          f"{'yes' if row['same_holdout_results'] else 'NO':<5} {row['accuracy'][1]:.4f}  "
          f"{row['params'][0]:>9,} -> {row['params'][1]:>9,}  "
          f"{row['madds'][0] / 1e6:6.1f} -> {row['madds'][1] / 1e6:6.1f}")
  for key, c in table["kept"].items():
    print(f"  kept {key:<26} {c['source']:<16} {c['accuracy']:.4f} {c['params']:>10,} "
          f"{c['madds'] / 1e6:6.1f} M  dead outputs {json.dumps(c['dead_outputs'])}")


def main():
  search, _ = runs.load(FLAGS.run_dir)
  policies = derive.run_policies(search)
  tables = [effect(search, os.path.splitext(os.path.basename(name))[0], catalogue.load(name),
                   policies) for name in FLAGS.genotypes]
  for table in tables:
    print_table(table)
  with open(os.path.join(FLAGS.output_dir, "prune_effect.json"), "w") as stream:
    json.dump(tables, stream, indent=1)


if __name__ == "__main__":
  flags.mark_flag_as_required("run_dir")
  cli.run(main)
