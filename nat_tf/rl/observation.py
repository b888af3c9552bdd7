"""The policy's observation of an architecture, built in TensorFlow.

From an architecture tensor (`nat_tf.nn.architecture`) the observation adds the
in-edge adjacency and the valid-action mask of every edge, gathered from the
ActionSpace tables, so any batch of architectures is observed without Python
loops. Which node each edge feeds, how many cells and input nodes there are and
which edges have stride 2 come from the cell space's `graph.CellLayout`.
`nat_tf.space.graph` computes the same arrays in numpy; tests hold the two together.
"""

import numpy as np
import tensorflow as tf
from tf_agents.specs import tensor_spec

from nat_tf.nn import architecture as arch_lib
from nat_tf.space import graph


class ObservationBuilder:
  """Architecture tensor -> observation dict, for one action space and cell layout (or a
  DARTS node count)."""

  def __init__(self, action_space, layout):
    self.action_space = action_space
    self.layout = graph.layout_of(layout)
    self.num_nodes = self.layout.num_nodes
    self.edges = self.layout.num_edges
    self._valid = tf.constant(action_space.valid)
    self._targets = tf.constant(self.layout.targets, tf.int32)
    self._strided_cells = tf.constant(np.array(self.layout.strided_cells)[:, None])

  @property
  def spec(self):
    layout = self.layout
    k, e, n, c = self.action_space.num_actions, self.edges, layout.num_all_nodes, layout.num_cells
    num_ops = len(self.action_space.op_list)
    return {
        "op_ids": tensor_spec.BoundedTensorSpec((c, e), tf.int32, 0, num_ops - 1, name="op_ids"),
        "sources": tensor_spec.BoundedTensorSpec((c, e), tf.int32, 0, n - 2, name="sources"),
        "adjacency": tensor_spec.TensorSpec((c, n, n), tf.float32, name="adjacency"),
        "mask": tensor_spec.TensorSpec((c, e, k), tf.bool, name="mask"),
    }

  def __call__(self, architecture):
    op_ids = architecture[..., arch_lib.OP_IDS, :]
    sources = architecture[..., arch_lib.SOURCES, :]
    return {"op_ids": op_ids, "sources": sources,
            "adjacency": self.adjacency(sources), "mask": self.mask(op_ids, sources)}

  def adjacency(self, sources):
    """A[..., t, f] = number of edges f -> t (row = target, no self-loops)."""
    n = self.layout.num_all_nodes
    edge_matrix = tf.one_hot(self._targets, n)[:, :, None] * tf.one_hot(sources, n)[..., None, :]
    return tf.reduce_sum(edge_matrix, axis=-3)

  def mask(self, op_ids, sources):
    """Valid actions [..., cells, E, K]; edges leaving the input nodes of a strided cell (a
    reduction cell) use the stride-2 rules."""
    strided = tf.logical_and(self._strided_cells, sources < self.layout.num_inputs)
    return tf.gather_nd(self._valid, tf.stack([tf.cast(strided, tf.int32), op_ids], axis=-1))
