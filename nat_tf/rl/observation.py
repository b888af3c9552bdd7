"""The policy's observation of an architecture, built in TensorFlow.

From an architecture tensor (`nat_tf.nn.architecture`) the observation adds the
in-edge adjacency and the valid-action mask of every edge, gathered from the
ActionSpace tables, so any batch of architectures is observed without Python
loops. `nat_tf.space.graph`
computes the same arrays in numpy; tests hold the two together.
"""

import numpy as np
import tensorflow as tf
from tf_agents.specs import tensor_spec

from nat_tf.nn import architecture as arch_lib


class ObservationBuilder:
  """Architecture tensor -> observation dict, for one action space and node count."""

  def __init__(self, action_space, num_nodes):
    self.action_space = action_space
    self.num_nodes = num_nodes
    self.edges = 2 * num_nodes
    self._valid = tf.constant(action_space.valid)
    self._targets = tf.constant(np.repeat(np.arange(2, num_nodes + 2), 2), tf.int32)

  @property
  def spec(self):
    k, e, n = self.action_space.num_actions, self.edges, self.num_nodes + 2
    num_ops = len(self.action_space.op_list)
    return {
        "op_ids": tensor_spec.BoundedTensorSpec((2, e), tf.int32, 0, num_ops - 1, name="op_ids"),
        "sources": tensor_spec.BoundedTensorSpec((2, e), tf.int32, 0, n - 3, name="sources"),
        "adjacency": tensor_spec.TensorSpec((2, n, n), tf.float32, name="adjacency"),
        "mask": tensor_spec.TensorSpec((2, e, k), tf.bool, name="mask"),
    }

  def __call__(self, architecture):
    op_ids = architecture[..., arch_lib.OP_IDS, :]
    sources = architecture[..., arch_lib.SOURCES, :]
    return {"op_ids": op_ids, "sources": sources,
            "adjacency": self.adjacency(sources), "mask": self.mask(op_ids, sources)}

  def adjacency(self, sources):
    """A[..., t, f] = number of edges f -> t (row = target, no self-loops)."""
    n = self.num_nodes + 2
    edge_matrix = tf.one_hot(self._targets, n)[:, :, None] * tf.one_hot(sources, n)[..., None, :]
    return tf.reduce_sum(edge_matrix, axis=-3)

  def mask(self, op_ids, sources):
    """Valid actions [..., 2, E, K]; reduce-cell edges leaving nodes 0/1 use the stride-2 rules."""
    reduce_cell = tf.constant([[False], [True]])
    strided = tf.cast(tf.logical_and(reduce_cell, sources < 2), tf.int32)
    return tf.gather_nd(self._valid, tf.stack([strided, op_ids], axis=-1))
