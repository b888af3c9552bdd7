"""Single supernet ops, forward+backward: float32 graph vs bfloat16 graph vs float32 XLA.

    python bench/ops.py [--batch_size=64] [--size=32] [--channels=20] [--repeats=5]

What the options of issue 8 (mixed precision, `jit_compile`) would do to the ops the
supernet spends its time in, at the reference configuration's widest stage, measured
before wiring either into the search. Prints one Markdown table of median milliseconds.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nat_tf  # pylint: disable=unused-import,wrong-import-position  # before TensorFlow

import numpy as np  # pylint: disable=wrong-import-position
import tensorflow as tf  # pylint: disable=wrong-import-position

import measure  # pylint: disable=wrong-import-position
from nat_tf.nn import functional as fn  # pylint: disable=wrong-import-position

OPS = ("sep_conv_3x3", "dil_conv_3x3", "conv_3x3", "max_pool_3x3", "avg_pool_3x3")
VARIANTS = {  # name -> (dtype, jit_compile)
    "float32": (tf.float32, False),
    "bfloat16": (tf.bfloat16, False),
    "float32 XLA": (tf.float32, True),
}


def op_step(op, x, dtype, jit):
  """A function computing the gradients of sum(op(x)^2) w.r.t. x and the op's kernels."""
  kernels = [tf.Variable(tf.random.stateless_normal(w.shape, [0, i]) * 0.1)
             for i, w in enumerate(fn.weights_of(op, x.shape[-1], 1))]

  @tf.function(jit_compile=jit, autograph=False)
  def step():
    with tf.GradientTape() as tape:
      inputs = tf.cast(x, dtype)
      tape.watch(inputs)
      y = fn.apply_op(op, inputs, [tf.cast(k, dtype) for k in kernels], 1)
      loss = tf.reduce_sum(tf.square(tf.cast(y, tf.float32)))
    return tape.gradient(loss, [inputs] + kernels)

  return step


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch_size", type=int, default=64)
  parser.add_argument("--size", type=int, default=32)
  parser.add_argument("--channels", type=int, default=20)
  parser.add_argument("--repeats", type=int, default=5)
  args = parser.parse_args()
  x = tf.random.stateless_normal([args.batch_size, args.size, args.size, args.channels], [1, 2])
  print("| op | " + " | ".join(f"{name} (ms)" for name in VARIANTS) + " |")
  print("|---|" + "---|" * len(VARIANTS))
  for op in OPS:
    times = []
    for dtype, jit in VARIANTS.values():
      step = op_step(op, x, dtype, jit)
      step()  # trace and warm up
      times.append(1000 * float(np.median(measure.timed(step, args.repeats))))
    print(f"| {op} | " + " | ".join(f"{t:.1f}" for t in times) + " |", flush=True)


if __name__ == "__main__":
  main()
