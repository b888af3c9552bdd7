"""Random input cells and graph arrays (nat_tf.space.sampling, nat_tf.space.graph)."""

import subprocess
import sys

import numpy as np

from nat_tf.space import action_spaces
from nat_tf.space import catalogue
from nat_tf.space import graph
from nat_tf.space import ops
from nat_tf.space import sampling


def test_space_does_not_import_tensorflow():
  code = ("import sys; import nat_tf.space.catalogue, nat_tf.space.cost, nat_tf.space.graph, "
          "nat_tf.space.sampling, nat_tf.space.action_spaces; "
          "assert 'tensorflow' not in sys.modules, 'space imported tensorflow'")
  subprocess.run([sys.executable, "-c", code], check=True)


def test_random_cells_follow_the_reference_law():
  rng = np.random.default_rng(1)
  op_ids, sources = sampling.random_arrays(rng, 20000, 4, "fully_concat")
  assert op_ids.shape == sources.shape == (20000, 8)
  limits = sampling.edge_source_limits(4)
  assert (sources < limits).all() and (sources >= 0).all()
  null = ops.FULLY_CONCAT.null_id
  assert not (op_ids == null).any()
  counts = np.bincount(op_ids.ravel(), minlength=9)
  expected = op_ids.size / 8
  assert np.all(np.abs(counts[np.arange(9) != null] - expected) < 0.05 * expected)
  # The last node's sources are uniform over 0..4.
  last = np.bincount(sources[:, 7], minlength=5) / 20000
  assert np.allclose(last, 0.2, atol=0.02)


def test_loose_end_concat_is_unused_nodes():
  rng = np.random.default_rng(2)
  for _ in range(50):
    genotype = sampling.random_genotype(rng, 5, "loose_end", loose_end=True)
    for cell in genotype.cells.values():
      assert set(cell.concat).isdisjoint(cell.sources)
      assert 6 in cell.concat


def test_graph_arrays_of_darts():
  space = action_spaces.action_space("nat", "fully_concat")
  arrays = graph.genotype_graph(catalogue.get("DARTS"), space)
  assert arrays["op_ids"].shape == (2, 8)
  assert arrays["adjacency"].shape == (2, 6, 6)
  assert arrays["mask"].shape == (2, 8, 3)
  normal_adjacency = arrays["adjacency"][0]
  assert normal_adjacency.sum(axis=1).tolist() == [0, 0, 2, 2, 2, 2]
  assert normal_adjacency[5, 0] == 1 and normal_adjacency[5, 2] == 1
  # reduce cell: edges from nodes 0/1 are strided; the rest are not.
  assert arrays["strided"][1].tolist() == [True, True, False, True, True, False, False, True]
  assert not arrays["strided"][0].any()
  assert arrays["op_ids"][1, 0] == ops.FULLY_CONCAT.index("max_pool_3x3")


def test_duplicate_edges_count_twice_in_adjacency():
  cell = catalogue.get("R1").normal  # node 2 takes both inputs from node 1
  assert graph.adjacency(cell.sources, cell.num_nodes)[2, 1] == 2
