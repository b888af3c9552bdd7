#!/usr/bin/env python3
"""How many held-out images make derivation's kept architecture stable?

  python bench/holdout_stability.py --run_dir=runs/quickstart --genotype=DARTS_V2 \
      --pool_fraction=0.5 --seeds=0,1,2,3,4 --sizes=45,90,135,180,225

Derivation keeps one of the input, the greedy and `proposals.samples` sampled
transformations by their held-out accuracy. With few held-out images two candidates a
few images apart swap places from one set of images to another, so the kept
architecture is partly chance. This scores every candidate of each derivation seed on a
pool of held-out images (the run's split with `search_splits.holdout_fraction =
--pool_fraction`, which extends the held-out part into the policy part: the supernet
trained on none of it, the policy saw the extension as reward data), then for each
size n draws `--draws` pairs of disjoint n-image sets from the pool and counts how often
both sets keep the same candidate, under each Selection rule. It also prints, per size,
how far (on the whole pool) the kept candidate is from the pool's own pick.
"""

# pylint: disable=wrong-import-position
from nat_tf import quiet

quiet.start()  # first: TensorFlow reads its log level as it loads

import dataclasses

from absl import flags
import numpy as np

from nat_tf import cli
from nat_tf.analysis import derive
from nat_tf.errors import UsageError
from nat_tf.search import holdout
from nat_tf.search import runs
from nat_tf.space import catalogue

flags.DEFINE_string("run_dir", None, "A finished bin/train run on bundled data.")
flags.DEFINE_string("genotype", "DARTS_V2", "Input architecture (catalogue name or file).")
flags.DEFINE_float("pool_fraction", 0.5, "search_splits.holdout_fraction of the image pool.")
flags.DEFINE_list("seeds", ["0", "1", "2", "3", "4"], "proposals.seed of each derivation.")
flags.DEFINE_list("sizes", ["45", "90", "135", "180", "225"], "Held-out sizes to try.")
flags.DEFINE_integer("draws", 200, "Pairs of disjoint image sets per size and seed.")
FLAGS = flags.FLAGS

RULES = {"accuracy": derive.Selection("accuracy"), "not_worse": derive.Selection("not_worse")}


def on_images(candidates, images):
  """The candidates as scored on the held-out images `images` only."""
  return [dataclasses.replace(c, accuracy=float(c.correct[images].mean()),
                              correct=c.correct[images]) for c in candidates]


def kept_index(selection, candidates, images):
  """Index in `candidates` (input first) of the one `selection` keeps on `images`."""
  original, *transformed = on_images(candidates, images)
  chosen = selection(original, transformed)
  return [c.source for c in candidates].index(chosen.source)


def main():
  run_dir = cli.required("run_dir")
  genotype = catalogue.load(FLAGS.genotype)
  search, _ = runs.load(run_dir, [f"search_splits.holdout_fraction = {FLAGS.pool_fraction}"])
  policies = derive.run_policies(search)
  scorer = holdout.HoldoutScorer(search)
  pool = scorer.examples
  sizes = [int(size) for size in FLAGS.sizes]
  if 2 * max(sizes) > pool:
    raise UsageError(f"--sizes: {max(sizes)} x 2 disjoint images exceed the pool of {pool}; "
                         "raise --pool_fraction or give smaller sizes")
  print(f"{FLAGS.genotype} on {run_dir}: pool of {pool} held-out images, "
        f"{len(FLAGS.seeds)} derivation seeds, {FLAGS.draws} draws per size and seed")
  rng = np.random.RandomState(0)
  everything = np.arange(pool)
  rows = {(rule, size): [] for rule in RULES for size in sizes}
  for seed in FLAGS.seeds:
    named = derive.proposals(policies, search.editor, genotype, seed=int(seed))
    candidates = derive.scored(scorer, [("input", genotype)] + named)
    accuracy = np.array([c.accuracy for c in candidates])
    for rule, selection in RULES.items():
      pool_pick = kept_index(selection, candidates, everything)
      for size in sizes:
        for _ in range(FLAGS.draws):
          order = rng.permutation(pool)
          first = kept_index(selection, candidates, order[:size])
          second = kept_index(selection, candidates, order[size:2 * size])
          rows[rule, size].append((first == second, first == pool_pick,
                                   accuracy[pool_pick] - accuracy[first], first == 0))
  print("| rule | held-out images | same pick on two disjoint sets | same pick as the whole pool "
        "| pool accuracy below the pool's pick | input kept |")
  print("|---|---|---|---|---|---|")
  for (rule, size), outcomes in rows.items():
    same, as_pool, gap, kept_input = np.mean(np.array(outcomes, float), axis=0)
    print(f"| {rule} | {size} | {same:.2f} | {as_pool:.2f} | {gap:.3f} | {kept_input:.2f} |")


if __name__ == "__main__":
  cli.run(main)
