"""A fixed cell built from a genotype cell at a skeleton slot (the reference code).

The cell brings its two inputs to its width (preprocessing of the slot's kinds),
runs each edge's op (stride 2 on the edges leaving the inputs of a reduction
cell), sums two edges per node and concatenates the slot's `concat` nodes, as the
reference's evaluation cell does. Null edges contribute nothing, so they are not
built; a node whose inputs are all null is zeros. Drop path follows every edge op
but the identity and acts in training only, on edges whose node has another live
input: dropping a node's only input zeros the node, and on a cell that is one chain
(the hand-crafted blocks' reduction cells) the whole cell with it, so that with the
DARTS protocol's rate an example kept its path through two such cells in under half of
the training steps (BUILD_NOTES.md, "Drop path on single-path cells"). DARTS-style cells,
two live inputs per node, are regularised as in the reference.
"""

import tensorflow as tf

from nat_tf.nn import layers
from nat_tf.space import macro
from nat_tf.space import ops


class Cell(tf.keras.layers.Layer):
  """Called on (s0, s1), the outputs of the cells two and one back; returns the cell output."""

  def __init__(self, cell, slot, drop_path_rate, **kwargs):
    super().__init__(**kwargs)
    self.genotype_cell = cell
    self.channels = slot.channels
    self.stride = 2 if slot.reduction else 1
    self.preprocess = [layers.make_preprocess(kind, slot.channels) for kind in slot.preprocess]
    self.live_edges = [edge for edge in cell.edges if edge.op != ops.NULL]
    inputs = [edge.dst for edge in self.live_edges]
    self.edge_ops = [_edge_op(edge, slot, drop_path_rate if inputs.count(edge.dst) > 1 else None)
                     for edge in self.live_edges]

  def call(self, inputs, training=None):
    s0, s1 = inputs
    states = [pre(s, training=training) for pre, s in zip(self.preprocess, (s0, s1))]
    for node in range(2, self.genotype_cell.num_nodes + 2):
      outputs = [op(states[edge.src], training=training)
                 for edge, op in zip(self.live_edges, self.edge_ops) if edge.dst == node]
      states.append(tf.add_n(outputs) if outputs else self._zeros(s1))
    chosen = [states[node] for node in self.genotype_cell.concat]
    return chosen[0] if len(chosen) == 1 else tf.concat(chosen, axis=-1)

  def _zeros(self, s1):
    """A node of null edges only: zeros at the cell's output size and width."""
    height, width = (macro.out_size(size, self.stride) for size in s1.shape[1:3])
    return tf.zeros(tf.stack([tf.shape(s1)[0], height, width, self.channels]), s1.dtype)


def _edge_op(edge, slot, drop_path_rate):
  """The edge's op, followed by drop path at `drop_path_rate` unless that is None."""
  op = layers.make_op(edge.op, slot.channels, macro.edge_stride(slot.reduction, edge.src))
  if drop_path_rate is None or isinstance(op, tf.keras.layers.Identity):
    return op
  return layers.Chain([op, layers.DropPath(drop_path_rate)])
