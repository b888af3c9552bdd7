"""Batches for training and evaluation, reproducible per (seed, epoch).

Resume guarantee: in training mode the batches of epoch `e` (which examples, in
which order, with which crops, flips and cutouts) depend only on the input
dataset's order, `seed` and `e`, for a given TF version and TF global seed (the
shuffle op mixes `tf.random.set_seed`'s value into its seed, so a run sets it
once from its config). A run restarted after k steps of epoch `e` calls
`batches(..., epoch=e)` again and `.skip(k)`: the next batch is the one it
would have seen, nothing repeated and nothing skipped. A run therefore builds
one dataset (and iterator) per epoch; there is no endless stream, because a
shuffle seed computed from a tensor epoch breaks once a TF global seed is set.

How: the shuffle seed and each example's augmentation seed are derived with
stateless random ops from (seed, epoch, position in the epoch), and the parallel
map keeps its output order (`deterministic=True`, the default).
`deterministic=False` lets tf.data emit examples out of order for speed and
gives up the guarantee.
"""

import gin
import tensorflow as tf

from nat_tf.data import augment
from nat_tf.errors import UsageError

AUTOTUNE = tf.data.AUTOTUNE


@gin.configurable(denylist=["dataset", "info"])
def batches(dataset, info, batch_size, training, seed=1234, epoch=0,
            drop_remainder=True, cutout=0, shuffle_buffer=None, deterministic=True):
  """(float32 normalised images [B, H, W, C], int32 labels [B]) from raw (uint8 image, label) pairs.

  training: shuffle and augment (with `cutout` > 0: cutout of that length);
  otherwise keep the input order, centre-crop ImageNet and only normalise.
  shuffle_buffer: examples in the shuffle buffer; None means the whole dataset
  when it is cached in memory (CIFAR, the bundled datasets), else 10,000.
  The result knows its length (steps per epoch).
  """
  if not (isinstance(batch_size, int) and batch_size > 0):
    raise UsageError(f"batch_size must be a positive integer, got {batch_size!r}")
  if training:
    one_epoch = _training_epoch(dataset, info, batch_size, drop_remainder, seed, cutout,
                                shuffle_buffer or _whole_or_default(dataset, info))
  else:
    one_epoch = _evaluation_epoch(dataset, info, batch_size, drop_remainder)
  stream = one_epoch(epoch)
  options = tf.data.Options()
  options.deterministic = deterministic
  return stream.with_options(options).prefetch(AUTOTUNE)


def _whole_or_default(dataset, info):
  size = int(dataset.cardinality())
  return size if info.cache_in_memory and size > 0 else 10_000


def _training_epoch(dataset, info, batch_size, drop_remainder, seed, cutout, shuffle_buffer):
  """fn(epoch) -> that epoch's shuffled, augmented batches (built eagerly: the shuffle
  seed is a Python int, as Dataset.shuffle wants once a global seed is set)."""
  transform = augment.train_transform(info, cutout)

  def one_epoch(epoch):
    key = tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])
    shuffle_key, augment_key = tf.unstack(tf.random.experimental.stateless_split(key, 2))
    shuffle_seed = int(tf.random.stateless_uniform([], shuffle_key, minval=None, maxval=None,
                                                   dtype=tf.int64))
    shuffled = dataset.shuffle(shuffle_buffer, seed=shuffle_seed, reshuffle_each_iteration=False)

    def augment_one(position, example):
      image, label = example
      example_seed = tf.random.experimental.stateless_fold_in(augment_key, position)
      return transform(image, example_seed), label

    examples = shuffled.enumerate().map(augment_one, num_parallel_calls=AUTOTUNE)
    return examples.batch(batch_size, drop_remainder=drop_remainder)

  return one_epoch


def _evaluation_epoch(dataset, info, batch_size, drop_remainder):
  """fn(epoch tensor) -> the dataset in its order, evaluation-transformed and batched."""
  transform = augment.eval_transform(info)

  def one_epoch(epoch):
    del epoch  # every evaluation pass is the same
    examples = dataset.map(lambda image, label: (transform(image), label),
                           num_parallel_calls=AUTOTUNE)
    return examples.batch(batch_size, drop_remainder=drop_remainder)

  return one_epoch
