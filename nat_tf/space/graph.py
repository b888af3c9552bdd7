"""Cells as fixed-shape graph arrays: what the policy observes.

Per cell (NAT_SPEC 4): op id and source node of each edge (edge e feeds node
e//2 + 2), whether the edge has stride 2, the in-edge adjacency A[t, f] = number of
edges f -> t (row = target, no self-loops), and the valid-action mask of each edge.
A genotype stacks its normal and reduction cells on a leading axis of 2, in that
order. Every architecture the policy sees, a user's genotype too, is observed in
TensorFlow from its architecture tensor (`nat_tf.rl.observation`, all these arrays
but the stride); these numpy versions are the reference the tests hold it to.
"""

import numpy as np

from nat_tf.space import macro

CELL_NAMES = ("normal", "reduce")


def adjacency(sources, num_nodes):
  """In-edge adjacency [N+2, N+2] of a cell given each edge's source node."""
  matrix = np.zeros((num_nodes + 2, num_nodes + 2), np.float32)
  for edge, src in enumerate(sources):
    matrix[edge // 2 + 2, src] += 1
  return matrix


def cell_graph(cell, action_space, reduction):
  """Graph arrays of one cell under `action_space` (op ids index its op list)."""
  return {
      "op_ids": np.array([action_space.op_list.op_id(op) for op in cell.ops], np.int32),
      "sources": np.array(cell.sources, np.int32),
      "strided": np.array([macro.edge_stride(reduction, s) == 2 for s in cell.sources], bool),
      "adjacency": adjacency(cell.sources, cell.num_nodes),
      "mask": action_space.edge_masks(cell, reduction),
  }


def genotype_graph(genotype, action_space):
  """Both cells' arrays stacked as [2, ...] (normal first)."""
  graphs = [cell_graph(genotype.normal, action_space, False),
            cell_graph(genotype.reduce, action_space, True)]
  return {key: np.stack([g[key] for g in graphs]) for key in graphs[0]}
