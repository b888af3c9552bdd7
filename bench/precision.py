#!/usr/bin/env python3
"""bfloat16 against float32 scoring on a trained run: how far the rewards move.

  python bench/precision.py --root_dir=<a bin/train run> [--data_dir=<TFDS dir>]

The run is reopened twice from its latest checkpoint, with Supernet.compute_dtype
'float32' and 'bfloat16', and each time the same held-out input cells and the same
transformations of them (nat_tf.search.policy_eval, fixed seeds; the policies act on
the cells, not on accuracies, so their actions are identical) are scored on the whole
held-out split. Printed per policy: the mean reward in each precision, the mean and
largest per-cell reward difference, and the correlation of the per-cell rewards;
then whether both precisions rank the policies in the same order.
"""

import gin
import numpy as np
from absl import flags

from nat_tf import cli
from nat_tf.search import runs

flags.DEFINE_string("data_dir", None, "TFDS data dir, if the run's has moved.")
FLAGS = flags.FLAGS
PRECISIONS = ("float32", "bfloat16")


def rewards(root_dir, precision):
  """{policy: per-cell rewards [N]} of the run scored in `precision`."""
  gin.clear_config()
  bindings = [f"Supernet.compute_dtype = '{precision}'"]
  if FLAGS.data_dir:
    bindings.append(f"SearchSetup.data_dir = '{FLAGS.data_dir}'")
  scores, _ = runs.evaluate(root_dir, bindings)
  return {name: score.reward for name, score in scores.items()}


def main():
  root_dir = cli.required("root_dir")
  single, half = (rewards(root_dir, precision) for precision in PRECISIONS)
  print("| policy | mean reward float32 | mean reward bfloat16 | mean abs difference "
        "| largest abs difference | correlation |")
  print("|" + " --- |" * 6)
  for name in single:
    difference = np.abs(half[name] - single[name])
    spread = np.std(single[name]) * np.std(half[name])
    correlation = np.corrcoef(single[name], half[name])[0, 1] if spread > 0 else float("nan")
    print(f"| {name} | {single[name].mean():+.4f} | {half[name].mean():+.4f} "
          f"| {difference.mean():.4f} | {difference.max():.4f} | {correlation:.3f} |")
  order = [sorted(scores, key=lambda name, s=scores: -s[name].mean()) for scores in (single, half)]
  print(f"\npolicies by mean reward, float32: {order[0]}; bfloat16: {order[1]} "
        f"({'same' if order[0] == order[1] else 'different'} order)")


if __name__ == "__main__":
  cli.run(main)
