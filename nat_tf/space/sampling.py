"""Random input cells, drawn as the reference draws them (the reference code).

For intermediate node i (0-based) both inputs are uniform over nodes 0..i+1 and
both ops uniform over the op list without null. The same law, vectorised, is what
the TensorFlow sampler `nat_tf.nn.architecture.random` draws from;
`edge_source_limits` and `sampled_op_ids` are the tables both share.
"""

import numpy as np

from nat_tf.space import genotype as genotype_lib
from nat_tf.space import ops


def edge_source_limits(num_nodes):
  """Exclusive upper bound of each edge's source node: edge e feeds node e//2 + 2."""
  return np.repeat(np.arange(2, num_nodes + 2), 2).astype(np.int32)


def sampled_op_ids(op_list):
  """Op ids a random input cell may hold: every op except null."""
  op_list = ops.op_list(op_list)
  return np.array([i for i, op in enumerate(op_list) if op != ops.NULL], np.int32)


def random_arrays(rng, batch, num_nodes, op_list):
  """(op ids, sources), each [batch, 2 * num_nodes] int32, for `batch` random cells."""
  edges = 2 * num_nodes
  sources = rng.integers(0, edge_source_limits(num_nodes), size=(batch, edges)).astype(np.int32)
  candidates = sampled_op_ids(op_list)
  op_ids = candidates[rng.integers(0, len(candidates), size=(batch, edges))]
  return op_ids, sources


def cell_from_arrays(op_ids, sources, op_list, loose_end=False):
  """A Cell from op ids and sources; concat is every node, or the loose ends."""
  op_list = ops.op_list(op_list)
  num_nodes = len(op_ids) // 2
  edges = [(op_list[op], int(src), e // 2 + 2) for e, (op, src) in enumerate(zip(op_ids, sources))]
  cell = genotype_lib.make_cell(edges, range(2, num_nodes + 2))
  if loose_end:
    cell = genotype_lib.Cell(cell.edges, cell.loose_ends())
  return cell


def random_genotype(rng, num_nodes, op_list, loose_end=False):
  """A random input architecture: independent normal and reduction cells."""
  cells = [cell_from_arrays(*[a[0] for a in random_arrays(rng, 1, num_nodes, op_list)],
                            op_list, loose_end) for _ in range(2)]
  return genotype_lib.Genotype(*cells)
