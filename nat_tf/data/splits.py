"""Which examples each phase may see (the reference code).

Search cuts the *training* split, shuffled with a seed, into a part that trains
the supernet weights (default 40%) and a part that trains the policy (60%); a
slice of the policy part is held out for derivation, so the architecture that is
kept is scored on examples the policy never trained on. The test split is never
used for search or selection: it is only reachable through `final_evaluation`,
which reports a finished network's accuracy.
"""

import dataclasses

import gin
import numpy as np
import tensorflow as tf

from nat_tf.data import datasets
from nat_tf.errors import UsageError

WEIGHTS, POLICY, HOLDOUT = 0, 1, 2


@dataclasses.dataclass(frozen=True)
class SearchSplits:
  """Raw (uint8 image, int32 label) datasets of the three search parts, disjoint.

  `*_indices` are positions in the stored training split (sorted), for checks
  and for logging exactly which examples each part holds.
  """

  weights: tf.data.Dataset
  policy: tf.data.Dataset
  holdout: tf.data.Dataset
  weights_indices: np.ndarray
  policy_indices: np.ndarray
  holdout_indices: np.ndarray

  @property
  def weights_size(self):
    return len(self.weights_indices)

  @property
  def policy_size(self):
    return len(self.policy_indices)

  @property
  def holdout_size(self):
    return len(self.holdout_indices)


def part_of_each_example(num_examples, weights_fraction, holdout_fraction, seed):
  """An int8 array: WEIGHTS, POLICY or HOLDOUT for each example of the training split.

  The examples are permuted with numpy's RandomState(seed), whose stream numpy
  keeps stable across versions; the first `weights_fraction` go to the weights,
  the last `holdout_fraction` of the rest to the holdout.
  """
  for label, fraction in (("weights_fraction", weights_fraction),
                          ("holdout_fraction", holdout_fraction)):
    if not 0 < fraction < 1:
      raise UsageError(f"{label} must lie strictly between 0 and 1, got {fraction!r}")
  num_weights = round(num_examples * weights_fraction)
  num_holdout = round((num_examples - num_weights) * holdout_fraction)
  num_policy = num_examples - num_weights - num_holdout
  if min(num_weights, num_policy, num_holdout) < 1:
    raise UsageError(f"weights_fraction={weights_fraction} and holdout_fraction={holdout_fraction} "
                     f"leave an empty search part of {num_examples} training examples; move them "
                     "towards 0.5")
  order = np.random.RandomState(seed).permutation(num_examples)
  parts = np.empty(num_examples, np.int8)
  parts[order[:num_weights]] = WEIGHTS
  parts[order[num_weights:num_weights + num_policy]] = POLICY
  parts[order[num_weights + num_policy:]] = HOLDOUT
  return parts


@gin.configurable
def search_splits(name, data_dir=None, weights_fraction=0.4, holdout_fraction=0.1, seed=1234):
  """The search parts of dataset `name`'s training split; the same for the same arguments.

  Images are filtered while still encoded and decoded only for the part that
  keeps them, so ImageNet is not decoded twice.
  """
  facts = datasets.info(name)
  encoded = datasets.load_encoded(name, facts.train_split, data_dir)
  parts = part_of_each_example(int(encoded.cardinality()), weights_fraction, holdout_fraction, seed)
  part_table = tf.constant(parts)

  def select(part):
    kept = encoded.enumerate().filter(lambda index, _: tf.equal(part_table[index], part))
    kept = kept.map(lambda _, example: example)
    kept = kept.apply(tf.data.experimental.assert_cardinality(int(np.sum(parts == part))))
    return datasets.decode(facts, kept)

  return SearchSplits(weights=select(WEIGHTS), policy=select(POLICY), holdout=select(HOLDOUT),
                      weights_indices=np.flatnonzero(parts == WEIGHTS),
                      policy_indices=np.flatnonzero(parts == POLICY),
                      holdout_indices=np.flatnonzero(parts == HOLDOUT))


def final_training(name, data_dir=None):
  """The whole training split, for training a derived network from scratch."""
  return datasets.load(name, datasets.info(name).train_split, data_dir)


def final_evaluation(name, data_dir=None):
  """The test split (ImageNet: validation), only to report a finished network's accuracy.

  Nothing that chooses an architecture or a checkpoint may call this.
  """
  return datasets.load(name, datasets.info(name).test_split, data_dir)
