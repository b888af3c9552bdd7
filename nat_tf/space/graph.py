"""Cells as fixed-shape graph arrays: what the policy observes, and where its edges run.

Per cell (the reference code): op id and source node of each edge, whether the edge has
stride 2, the in-edge adjacency A[t, f] = number of edges f -> t (row = target, no
self-loops), and the valid-action mask of each edge. An architecture stacks its
cells on a leading axis, in the order of its layout's `cell_names`. Every
architecture the policy sees, a user's genotype too, is observed in TensorFlow from
its architecture tensor (`nat_tf.rl.observation`, all these arrays but the stride);
these numpy versions are the reference the tests hold it to.

A `CellLayout` says what differs between cell spaces and nothing else: how many
cells an architecture has, how many input nodes a cell has, which node each edge
feeds, and which cells' input edges have stride 2. The policy, the observation and
the editor read the layout, so a new cell space (NAS-Bench-201's: one cell, one
input node, an edge from every earlier node) is a new layout, not a copy of them.
"""

import dataclasses
from typing import Tuple

import numpy as np

from nat_tf.space import macro
from nat_tf.space import nasbench201

CELL_NAMES = ("normal", "reduce")


@dataclasses.dataclass(frozen=True)
class CellLayout:
  """Where a cell space's edges run.

  cell_names: the cells of an architecture (axis -3 of its tensor), in order;
  num_inputs: the input nodes of a cell (nodes 0 .. num_inputs - 1);
  targets: the node each edge feeds, edges sorted by target;
  strided_cells: per cell, whether edges leaving its input nodes have stride 2;
  fixed_sources: each edge's source node where the space fixes them (NAS-Bench-201),
    else empty: DARTS-like cells choose their sources.
  """

  name: str
  cell_names: Tuple[str, ...]
  num_inputs: int
  targets: Tuple[int, ...]
  strided_cells: Tuple[bool, ...]
  fixed_sources: Tuple[int, ...] = ()

  @property
  def num_cells(self):
    return len(self.cell_names)

  @property
  def num_edges(self):
    return len(self.targets)

  @property
  def num_nodes(self):
    """Intermediate nodes: those some edge feeds."""
    return self.num_all_nodes - self.num_inputs

  @property
  def num_all_nodes(self):
    return max(self.targets) + 1

  @property
  def max_in_degree(self):
    return max(np.bincount(self.targets))

  def node_edges(self):
    """[num_nodes, max_in_degree]: the edges feeding each intermediate node, in edge order,
    padded with -1 where a node has fewer; what a node's features are made of."""
    table = np.full((self.num_nodes, self.max_in_degree), -1, np.int32)
    filled = np.zeros(self.num_nodes, np.int32)
    for edge, target in enumerate(self.targets):
      row = target - self.num_inputs
      table[row, filled[row]] = edge
      filled[row] += 1
    return table


def darts_layout(num_nodes):
  """DARTS-like cells of `num_nodes` intermediate nodes: normal and reduction cells, two
  input nodes, two edges into each intermediate node (edge e feeds node e // 2 + 2)."""
  return CellLayout(f"darts_{num_nodes}", CELL_NAMES, 2,
                    tuple(int(t) for t in np.repeat(np.arange(2, num_nodes + 2), 2)),
                    (False, True))


NASBENCH201 = CellLayout("nasbench201", ("cell",), 1,
                         tuple(dst for _, dst in nasbench201.EDGES), (False,),
                         tuple(src for src, _ in nasbench201.EDGES))


def layout_of(layout_or_num_nodes):
  """A CellLayout, or the DARTS layout of an int node count (what DARTS callers pass)."""
  if isinstance(layout_or_num_nodes, CellLayout):
    return layout_or_num_nodes
  return darts_layout(int(layout_or_num_nodes))



def adjacency(sources, num_nodes):
  """In-edge adjacency [N+2, N+2] of a DARTS-like cell given each edge's source node."""
  return _adjacency(darts_layout(num_nodes).targets, sources, num_nodes + 2)


def _adjacency(targets, sources, size):
  matrix = np.zeros((size, size), np.float32)
  for target, source in zip(targets, sources):
    matrix[target, source] += 1
  return matrix


def cell_graph(cell, action_space, reduction):
  """Graph arrays of one cell under `action_space` (op ids index its op list)."""
  targets = [edge.dst for edge in cell.edges]
  return {
      "op_ids": np.array([action_space.op_list.op_id(op) for op in cell.ops], np.int32),
      "sources": np.array(cell.sources, np.int32),
      "strided": np.array([macro.edge_stride(reduction, s) == 2 for s in cell.sources], bool),
      "adjacency": _adjacency(targets, cell.sources, max(targets) + 1),
      "mask": action_space.edge_masks(cell, reduction),
  }


def genotype_graph(genotype, action_space):
  """Both cells' arrays stacked as [2, ...] (normal first)."""
  graphs = [cell_graph(genotype.normal, action_space, False),
            cell_graph(genotype.reduce, action_space, True)]
  return {key: np.stack([g[key] for g in graphs]) for key in graphs[0]}
