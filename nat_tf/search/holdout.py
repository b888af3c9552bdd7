"""Supernet accuracy of whole genotypes on a search run's held-out split.

Derivation and the baselines choose among candidate architectures; choosing on
the test split would make the reported accuracy of the chosen one optimistic, and
choosing on the policy split would reward what the policy memorised. So every
candidate is scored on `splits.holdout` (examples neither the supernet nor the
policy trained on), with the evaluation transform, in stored order, with the same
supernet weights, so candidates of one call differ only in their architecture.
"""

import numpy as np
import tensorflow as tf

from nat_tf.data import pipeline
from nat_tf.errors import UsageError
from nat_tf.search import transformations


class HoldoutScorer:
  """Called on a list of genotypes: their mean top-1 accuracy over the holdout batches."""

  def __init__(self, search):
    self.search = search
    self.batches = search.splits.holdout_size // search.batch_size
    if not self.batches:
      raise UsageError(f"the held-out split has {search.splits.holdout_size} examples, fewer "
                       f"than one batch of {search.batch_size}; raise "
                       "search_splits.holdout_fraction or lower SearchSetup.batch_size")
    self._score = tf.function(search.scorer, autograph=False, reduce_retracing=True)

  def __call__(self, genotypes):
    """Accuracies [len(genotypes)]; a genotype the policy can't encode raises UsageError."""
    search = self.search
    architectures = tf.constant(np.stack([transformations.encode(g, search.transformer)
                                          for g in genotypes]))
    data = pipeline.batches(search.splits.holdout, search.info, search.batch_size,
                            training=False)
    total = tf.zeros([len(genotypes)])
    for images, labels in search.strategy.experimental_distribute_dataset(data):
      total += self._score(images, labels, architectures)
    return (total / self.batches).numpy()

  @property
  def examples(self):
    """How many held-out examples each score reads (whole batches only)."""
    return self.batches * self.search.batch_size
