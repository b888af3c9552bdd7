#!/usr/bin/env python3
"""Does the main job learn? Train per input family, variant and seed, evaluate on held-out
cells, print tables.

  python bench/learning_report.py --data_dir=/tmp/tfds_nat --root_dir=/tmp/learning \
      --families=fully_concat,loose_end,enas,natpp --variants=quickstart --seeds=1,2,3

Each run is bin/train's job done in-process (the family's quickstart gin file, the
variant's bindings, SearchSetup.seed = seed) in <root_dir>/<family>/<variant>/seed_<seed>;
a run that already finished there is only evaluated again. Evaluation: nat_tf.search.policy_eval
(200 held-out random cells, the whole held-out split). Printed per run: the edge
outcomes, mean accuracy change (and its spread over cells), mean relative change of
multiply-adds and parameters, and mean reward, for every policy; then per variant
the greedy policy's margins over uniform and over its placement control. The
numbers go to <root_dir>/report.json as well.
"""

import json
import os

from absl import app
from absl import flags
import gin

from nat_tf import cli
from nat_tf.search import runs

VARIANTS = {
    "quickstart": [],
    "cost_weight_0": ["SearchSetup.cost_weight = 0.0"],
    "cost_weight_0.1": ["SearchSetup.cost_weight = 0.1"],
    "cost_weight_0.2": ["SearchSetup.cost_weight = 0.2"],
    "adjacency_reference": ["CellEncoder.adjacency = 'reference'"],
    "adjacency_gcn": ["CellEncoder.adjacency = 'gcn'"],
    "baseline_value_network": ["make_agent.baseline = 'value_network'"],
    "baseline_moving_average": ["make_agent.baseline = 'moving_average'"],
    "bfloat16": ["Supernet.compute_dtype = 'bfloat16'"],
}

flags.DEFINE_string("data_dir", None, "TFDS data dir holding digits.")
flags.DEFINE_list("families", ["fully_concat"], f"Any of {list(runs.QUICKSTARTS)}.")
flags.DEFINE_list("variants", ["quickstart"], f"Any of {list(VARIANTS)}.")
flags.DEFINE_list("seeds", ["1", "2", "3"], "SearchSetup.seed of each run.")
flags.DEFINE_multi_string("bindings", [], "Extra gin bindings for every run.")
FLAGS = flags.FLAGS

COLUMNS = ("kept", "skipped", "nulled", "accuracy_change", "accuracy_change_std",
           "madds_change", "params_change", "reward")


def run_dir(family, variant, seed):
  return os.path.join(FLAGS.root_dir, family, variant, f"seed_{seed}")


def bindings(variant, seed):
  data = [f"SearchSetup.data_dir = '{FLAGS.data_dir}'"] if FLAGS.data_dir else []
  return data + VARIANTS[variant] + list(FLAGS.bindings) + [f"SearchSetup.seed = {seed}"]


def table(rows):
  header = "| family | variant | seed | policy | " + " | ".join(COLUMNS) + " |"
  lines = [header, "|" + " --- |" * (len(COLUMNS) + 4)]
  for run, name, summary in rows:
    values = " | ".join(f"{summary[c]:+.3f}" if "change" in c or c == "reward"
                        else f"{summary[c]:.3f}" for c in COLUMNS)
    lines.append(f"| {' | '.join(run)} | {name} | {values} |")
  return "\n".join(lines)


def margins(results):
  """Per run: greedy minus uniform and minus placement (accuracy change, reward)."""
  lines = ["| family | variant | seed | greedy madds | greedy - uniform (acc) "
           "| greedy - placement (acc) | greedy - placement (reward) | greedy reward "
           "| sampling reward |",
           "|" + " --- |" * 9]
  for run, summaries in results.items():
    greedy = summaries["greedy"]
    lines.append(
        f"| {' | '.join(run)} | {greedy['madds_change']:+.3f} "
        f"| {greedy['accuracy_change'] - summaries['uniform']['accuracy_change']:+.3f} "
        f"| {greedy['accuracy_change'] - summaries['placement']['accuracy_change']:+.3f} "
        f"| {greedy['reward'] - summaries['placement']['reward']:+.3f} "
        f"| {greedy['reward']:+.3f} | {summaries['sampling']['reward']:+.3f} |")
  return "\n".join(lines)


def main():
  root = cli.root_dir()
  results, rows = {}, []
  for family in FLAGS.families:
    for variant in FLAGS.variants:
      for seed in FLAGS.seeds:
        folder = run_dir(family, variant, seed)
        seconds = runs.train_unless_finished(folder, [runs.QUICKSTARTS[family][0]],
                                             bindings(variant, seed))
        gin.clear_config()
        scores, unplaced = runs.evaluate(folder, bindings(variant, seed))
        summaries = {name: score.summary() for name, score in scores.items()}
        run = (family, variant, seed)
        results[run] = summaries
        rows += [(run, name, summary) for name, summary in summaries.items()]
        print(f"{family} {variant} seed {seed}: trained in {seconds:.0f} s, {unplaced} unplaced "
              "changes", flush=True)
        print(table(rows[-len(summaries):]), flush=True)
  print(table(rows))
  print()
  print(margins(results))
  with open(os.path.join(root, "report.json"), "w") as handle:
    json.dump({f"{f}/{v}/seed_{s}": summaries for (f, v, s), summaries in results.items()},
              handle, indent=1)


if __name__ == "__main__":
  cli.run(main)
