"""Timing, memory and the machine's matrix-product ceiling, for the bench scripts."""

import resource
import time

import numpy as np
import tensorflow as tf


def timed(fn, count):
  """Wall seconds of `count` calls of fn(), each waited for (fn returns numpy or tensors)."""
  seconds = []
  for _ in range(count):
    start = time.perf_counter()
    tf.nest.map_structure(np.asarray, fn())
    seconds.append(time.perf_counter() - start)
  return np.array(seconds)


def peak_rss_gb():
  """Peak resident memory of this process so far (Linux reports KiB)."""
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def matmul_ceiling(size=2048, count=10):
  """Multiply-adds per second of a float32 [size, size] matrix product: the ceiling the
  supernet's achieved rate is a share of (the best of `count` runs)."""
  a = tf.random.stateless_normal([size, size], [0, 0])
  b = tf.random.stateless_normal([size, size], [0, 1])
  product = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))  # one scalar back, not a copy
  product()
  return size ** 3 / timed(product, count).min()
