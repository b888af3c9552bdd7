"""Importing nat_tf turns on TensorFlow's oneDNN CPU kernels before TensorFlow loads,
unless the environment already chose (nat_tf/__init__.py says why); the supernet's ReLUs
keep batch-norm from being fused where oneDNN's fused kernel is slow (functional.relu)."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.util import _pywrap_util_port as port

from nat_tf.nn import functional

PROBE = ("import nat_tf, os\n"
         "from tensorflow.python.util import _pywrap_util_port as port\n"
         "print(os.environ['TF_ENABLE_ONEDNN_OPTS'], port.IsMklEnabled())")


@pytest.mark.parametrize("setting, expected", [(None, ["1", "True"]), ("0", ["0", "False"])])
def test_onednn_kernels_unless_the_environment_chose(setting, expected):
  env = {key: value for key, value in os.environ.items() if key != "TF_ENABLE_ONEDNN_OPTS"}
  if setting is not None:
    env["TF_ENABLE_ONEDNN_OPTS"] = setting
  probe = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, check=True)
  assert probe.stdout.split()[-2:] == expected



def _batch_norm_relu_ops(channels):
  """The op types grappler leaves for functional.relu(batch-norm(x)) of this width."""
  with tf.Graph().as_default():
    x = tf.compat.v1.placeholder(tf.float32, [2, 4, 4, channels])  # not constant-folded
    y = 2.0 * functional.relu(functional.batch_stat_norm(x))  # a fetched ReLU is kept as is
    with tf.compat.v1.Session() as session:
      metadata = tf.compat.v1.RunMetadata()
      session.run(y, {x: np.zeros(x.shape)},
                  options=tf.compat.v1.RunOptions(output_partition_graphs=True),
                  run_metadata=metadata)
  return {node.op for graph in metadata.partition_graphs for node in graph.node}


@pytest.mark.skipif(not port.IsMklEnabled(), reason="the fusion is oneDNN's")
@pytest.mark.parametrize("channels, fused", [(20, False), (60, False), (16, True), (40, True)])
def test_batch_norm_relu_fused_only_at_widths_onednn_does_fast(channels, fused):
  ops = _batch_norm_relu_ops(channels)
  assert any("FusedBatchNormEx" in op for op in ops) == fused, sorted(ops)


@pytest.mark.parametrize("channels", [20, 16])
@pytest.mark.parametrize("dtype", [tf.float32, tf.bfloat16])
def test_relu_is_relu_at_every_width(channels, dtype):
  x = tf.cast(tf.random.stateless_normal([2, 3, 3, channels], [1, channels]), dtype)
  np.testing.assert_array_equal(functional.relu(x), tf.nn.relu(x))
