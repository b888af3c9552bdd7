"""Supernet accuracy of architectures and genotypes on a search run's held-out split.

Derivation, the baselines and the held-out policy evaluation choose among or compare
candidate architectures; choosing on the test split would make the reported accuracy
of the chosen one optimistic, and choosing on the policy split would reward what the
policy memorised. So every candidate is scored on `splits.holdout` (examples neither
the supernet nor the policy trained on), on every one of its examples, with the
evaluation transform, in stored order, with the same supernet weights, so candidates
of one call differ only in their architecture.
"""

import numpy as np
import tensorflow as tf

from nat_tf.data import pipeline
from nat_tf.search import supernet_steps
from nat_tf.search import transformations


class HoldoutScorer:
  """Exact top-1 accuracies on the held-out split, and which images each candidate gets
  right (`correct`, `per_example`); called on genotypes, or `accuracy` on architecture
  tensors."""

  def __init__(self, search, batch_size=None):
    """`batch_size`: held-out images per supernet call (default: the search's batch
    size); the last batch may be smaller. Batch-norm uses batch statistics, as in search."""
    self.search = search
    self.examples = search.splits.holdout_size  # never 0: search_splits refuses that
    data = pipeline.batches(search.splits.holdout, search.info,
                            min(batch_size or search.batch_size, self.examples),
                            training=False, drop_remainder=False)
    self.batches = list(search.strategy.experimental_distribute_dataset(data))
    scorer = supernet_steps.Scorer(search.supernet, search.strategy, search.batch_size)
    self._hits = tf.function(scorer.per_example, autograph=False, reduce_retracing=True)

  def __call__(self, genotypes):
    """Accuracies [len(genotypes)]; a genotype the policy can't encode raises UsageError."""
    return self.correct(genotypes).mean(axis=1)

  def correct(self, genotypes):
    """bool [len(genotypes), examples]: which held-out images each genotype gets right."""
    return self.per_example(np.stack([transformations.encode(g, self.search.editor)
                                      for g in genotypes]))

  def accuracy(self, architectures):
    """Top-1 accuracy [M] of architectures [M, 2, 2, E] on the whole held-out split."""
    return self.per_example(architectures).mean(axis=1)

  def per_example(self, architectures):
    """bool [M, examples]: which held-out images (in stored order) each of architectures
    [M, 2, 2, E] gets right; what paired tests between candidates need.

    Each distinct architecture is scored once (a forward pass is deterministic on
    fixed images), so unchanged cells and repeated transformations cost nothing.
    """
    architectures = np.asarray(architectures)
    unique, inverse = np.unique(architectures.reshape(len(architectures), -1), axis=0,
                                return_inverse=True)
    unique = tf.constant(unique.reshape((-1,) + architectures.shape[1:]))
    hits = tf.concat([self._hits(images, labels, unique) for images, labels in self.batches],
                     axis=1)
    return (hits.numpy() > 0.5)[inverse.reshape(-1)]
