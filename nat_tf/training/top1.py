"""Top-1 hits, the one definition of "right" for every accuracy a run reports.

The supernet's training accuracy and its scores of architectures (the reward), and
train_final's training and test accuracy, all count a prediction right when the
label is the first class of largest logit: on a tie one class is right, not every
tied one (as tf.math.in_top_k would count them), so no accuracy counts a network
that cannot tell classes apart as right.
"""

import tensorflow as tf


def hits(logits, labels):
  """1.0 where the top-1 prediction is right, else 0.0, per example."""
  return tf.cast(tf.equal(tf.argmax(logits, -1, output_type=labels.dtype), labels), tf.float32)


def correct(logits, labels):
  """How many of the examples the top-1 prediction gets right (a float)."""
  return tf.reduce_sum(hits(logits, labels))
