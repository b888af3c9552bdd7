"""Architectures as integer tensors: the one input format of the supernet.

An architecture is int32 [..., 2, 2, E]: axis -3 the cell (normal, reduce),
axis -2 (op ids, source nodes), axis -1 the edges in the reference order (edge
2i and 2i+1 feed node i + 2). Op ids index the supernet's op list. Because the
architecture is data, one traced function serves every architecture.
"""

import numpy as np
import tensorflow as tf

from nat_tf.errors import UsageError
from nat_tf.space import graph
from nat_tf.space import sampling

OP_IDS, SOURCES = 0, 1


def from_genotype(genotype, op_list):
  """The [2, 2, E] numpy architecture of a genotype; its ops must be in `op_list`."""
  cells = [genotype.normal, genotype.reduce]
  for name, cell in zip(graph.CELL_NAMES, cells):
    for index, op in enumerate(cell.ops):
      if op not in op_list:
        raise UsageError(f"{name} cell, edge {index}: operation {op!r} is not in the "
                         f"{op_list.name} op list {list(op_list)}; this supernet/policy cannot "
                         "handle it")
  return np.array([[[op_list.index(op) for op in cell.ops], list(cell.sources)] for cell in cells],
                  np.int32)


def random(generator, batch, num_nodes, op_list):
  """`batch` random input architectures [batch, 2, 2, E], drawn as the reference does."""
  edges = 2 * num_nodes
  shape = (batch, 2, edges)
  limits = tf.constant(sampling.edge_source_limits(num_nodes), tf.float32)
  sources = tf.cast(tf.floor(generator.uniform(shape, 0.0, 1.0) * limits), tf.int32)
  candidates = sampling.sampled_op_ids(op_list)
  picks = generator.uniform(shape, 0, len(candidates), dtype=tf.int32)
  op_ids = tf.gather(tf.constant(candidates), picks)
  return tf.stack([op_ids, sources], axis=-2)


def randomly_transformed(generator, architecture, probability, op_list):
  """`architecture` [..., 2, 2, E] with each edge's op, independently with `probability`,
  turned into a skip or a null edge (even odds), its sources kept: the changes NAT's
  action space makes. The reference's input law never holds a null edge and skips only
  as often as any other op, so a supernet trained on it alone has never run the
  transformed cells, nor the hand-crafted blocks' missing edges, it is asked to score."""
  op_ids = architecture[..., OP_IDS, :]
  draw = generator.uniform(tf.shape(op_ids))
  op_ids = tf.where(draw < probability / 2, op_list.skip_id,
                    tf.where(draw < probability, op_list.null_id, op_ids))
  return tf.stack([op_ids, architecture[..., SOURCES, :]], axis=-2)


def check(architecture, num_nodes, num_ops):
  """Assert shape [..., 2, 2, E] and ids in range; a clear error names what is wrong.

  Shape errors raise at trace time (UsageError); value errors raise
  tf.errors.InvalidArgumentError at run time with the same wording.
  """
  edges = 2 * num_nodes
  shape = architecture.shape
  if shape.rank is None or shape.rank < 3 or shape[-3:].as_list() != [2, 2, edges]:
    raise UsageError(f"architecture tensor has shape {shape}; expected [..., 2, 2, {edges}] "
                     "(cell, (op ids, sources), edges) for a supernet of "
                     f"{num_nodes} nodes")
  if architecture.dtype != tf.int32:
    raise UsageError(f"architecture tensor has dtype {architecture.dtype.name}; expected int32")
  op_ids = architecture[..., OP_IDS, :]
  sources = architecture[..., SOURCES, :]
  limits = tf.constant(sampling.edge_source_limits(num_nodes))
  return [
      tf.debugging.assert_non_negative(architecture, message="architecture has a negative id"),
      tf.debugging.assert_less(op_ids, num_ops,
                               message=f"architecture has an op id >= {num_ops} (op list size)"),
      tf.debugging.assert_less(sources, limits,
                               message="architecture has an edge whose source node is not "
                               "before its target node"),
  ]
