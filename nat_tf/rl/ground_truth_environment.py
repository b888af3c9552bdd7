"""The transformation MDP with ground truth: accuracy read from a benchmark's table.

The same TF-Agents environment as the supernet search's (environment.py), with the
same editor, reward and one-step episodes, for the NAS-Bench-201 cell space: input
cells are drawn from a given set of the table's architectures (the training half of
its 15,625 cells), and an architecture's accuracy is its row of the table, the
network the benchmark trained to the end. No supernet stands between the policy and
what it is rewarded for, so what a policy learns here can be checked exactly.

An architecture tensor of this space is [..., 1, 2, 6]: one cell, (op ids, sources),
the six edges in the benchmark string's order. Its table row is
`nasbench201.arch_index` of its op ids, computed here in TensorFlow.
"""

import numpy as np
import tensorflow as tf

from nat_tf.nn import architecture as arch_lib
from nat_tf.rl import environment
from nat_tf.space import graph
from nat_tf.space import nasbench201


def table_rows(architectures):
  """The table row [...] of architectures [..., 1, 2, 6] (nasbench201.arch_index)."""
  weights = tf.constant(len(nasbench201.OP_LIST) ** np.arange(nasbench201.NUM_EDGES), tf.int32)
  return tf.reduce_sum(architectures[..., 0, arch_lib.OP_IDS, :] * weights, axis=-1)


def architectures_of_rows(rows):
  """Architectures [..., 1, 2, 6] of table rows [...]: the inverse of table_rows."""
  num_ops = len(nasbench201.OP_LIST)
  weights = tf.constant(num_ops ** np.arange(nasbench201.NUM_EDGES), tf.int32)
  op_ids = (rows[..., None] // weights) % num_ops
  sources = tf.broadcast_to(tf.constant(graph.NASBENCH201.fixed_sources, tf.int32),
                            tf.shape(op_ids))
  return tf.stack([op_ids, sources], axis=-2)[..., None, :, :]


class TableAccuracy:
  """Accuracies (fractions) of architecture tensors, gathered from a table column."""

  def __init__(self, accuracy):
    """`accuracy`: [NUM_ARCHS] accuracies in [0, 1], indexed by table row."""
    self._accuracy = tf.constant(np.asarray(accuracy, np.float32))

  def __call__(self, architectures):
    return tf.gather(self._accuracy, table_rows(architectures))

  def accuracy(self, architectures):
    """As a numpy array: what the held-out evaluation reads (holdout.HoldoutScorer's name)."""
    return self(tf.convert_to_tensor(architectures, tf.int32)).numpy()


class GroundTruthEnvironment(environment.TransformationEnvironment):
  """Batched one-step episodes on NAS-Bench-201 cells, rewarded by the benchmark's table."""

  def __init__(self, editor, accuracy, input_rows, cost_table, generator, reward, batch_size=1,
               input_architecture=None):
    """`accuracy`: a TableAccuracy; `input_rows`: the table rows input cells are drawn from,
    uniformly; `cost_table(metric)`: a list over op ids of one edge's cost in the whole
    network (nasbench201.cell_op_cost_table); the rest as TransformationEnvironment's."""
    self._cost_table = cost_table
    self._input_rows = tf.constant(np.asarray(input_rows, np.int32))
    super().__init__(editor, accuracy, None, generator, reward, batch_size=batch_size,
                     input_architecture=input_architecture)

  def make_cell_cost(self, metric):
    row = self._cost_table(metric)
    return environment.CellCost([[row, row]], self.editor.layout)  # no cell is strided

  def _accuracy(self, architectures):
    return self._score(architectures)

  def _draw_inputs(self):
    if self._fixed_input is not None:
      return super()._draw_inputs()
    picks = self._generator.uniform([self.batch_size], 0, self._input_rows.shape[0],
                                    dtype=tf.int32)
    return architectures_of_rows(tf.gather(self._input_rows, picks))
