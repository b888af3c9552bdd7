"""Pruning (Cell.pruned): a transformed cell never carries a dead node, never costs more,
and only ever nulls edges, so it stays inside the transformation space."""

import numpy as np
import pytest

from conftest import nulling_transformation

from nat_tf.space import action_spaces
from nat_tf.space import catalogue
from nat_tf.space import cost
from nat_tf.space import ops

DARTS, ENAS = catalogue.get("DARTS_V2"), catalogue.get("ENAS")
# (input, action space, op list): the published inputs of each family.
INPUTS = [(DARTS, "nat", "fully_concat"), (DARTS, "natpp", "natpp"), (ENAS, "nat", "loose_end"),
          (ENAS, "natpp", "natpp")]


def _dead_edges(cell):
  """Non-null edges that read a dead node or feed one that reaches no output."""
  dead = set(cell.dead_nodes())
  reached = set(cell.concat)
  for edge in reversed(cell.edges):
    if edge.dst in reached and edge.op != ops.NULL and edge.src not in dead:
      reached.add(edge.src)
  return [e for e in cell.edges if e.op != ops.NULL and (e.src in dead or e.dst not in reached)]


@pytest.mark.parametrize("genotype, kind, op_list", INPUTS)
def test_a_transformed_cell_carries_no_dead_node_nor_dead_op(genotype, kind, op_list):
  """Random valid actions (half of them null): the result outputs no dead node unless
  every output of the cell is dead (then one, as zeros), runs no op whose value cannot
  reach the output, is a fixed point of pruning, and costs no more than the unpruned."""
  space = action_spaces.action_space(kind, op_list)
  null = space.action_names.index(ops.NULL)
  rng = np.random.default_rng(0)
  pruned_nodes = 0
  for _ in range(500):
    actions, unpruned = nulling_transformation(space, genotype, rng)
    new = space.apply_genotype(genotype, *actions)
    assert new == unpruned.pruned() and new.pruned() == new
    for reduction, (name, cell) in enumerate(new.cells.items()):
      before = unpruned.cells[name]
      if cell.dead_outputs():  # every output dead: the last one kept
        assert set(before.concat) <= set(before.dead_nodes())
        assert cell.concat == before.concat[-1:]
      assert not _dead_edges(cell)
      null_valid = space.edge_masks(genotype.cells[name], bool(reduction))[:, null]
      for old, pruned, valid in zip(before.ops, cell.ops, null_valid):
        assert pruned == old or (pruned == ops.NULL and valid)  # still a transformation
      pruned_nodes += len(before.concat) - len(cell.concat)
    (params, madds), (old_params, old_madds) = _cost(new), _cost(unpruned)
    if new.normal.concat != unpruned.normal.concat or new.reduce.concat != unpruned.reduce.concat:
      assert params < old_params and madds < old_madds  # the next cells read fewer channels
    else:
      assert params <= old_params and madds <= old_madds
  assert pruned_nodes > 100


def _cost(genotype):
  report = cost.report(genotype, "cifar10")
  return report["params"], report["madds"]


def test_a_node_both_of_whose_inputs_are_null_leaves_the_concat():
  cut = DARTS.normal.with_ops(DARTS.normal.ops[:6] + (ops.NULL, ops.NULL))  # node 5
  assert cut.dead_nodes() == (5,) and cut.pruned().concat == (2, 3, 4)
  assert cut.pruned().edges == cut.edges


def test_ops_that_read_a_dead_node_become_null_and_so_does_the_node_they_feed():
  # DARTS_V2's reduction cell without the pools leaving node 1: node 2 is dead, and the
  # skips of nodes 3, 4, 5 read only it; node 4 keeps its pool from node 0.
  ops_ = list(DARTS.reduce.ops)
  for index in (0, 1, 3, 7):  # (max_pool, 0, 2), (max_pool, 1, 2), (max_pool, 1, 3), (.., 1, 5)
    ops_[index] = ops.NULL
  cell = DARTS.reduce.with_ops(ops_)
  assert cell.dead_nodes() == (2, 3, 5)
  pruned = cell.pruned()
  assert pruned.concat == (4,)
  assert pruned.ops == (ops.NULL,) * 4 + ("max_pool_3x3",) + (ops.NULL,) * 3


def test_a_loose_end_family_node_that_feeds_only_a_null_edge_loses_its_ops():
  # ENAS' reduction cell: node 4 feeds only node 5's sep_conv_5x5; null it and node 4
  # reaches no output (it is used, so not a loose end) yet still ran a sep_conv_3x3.
  cell = ENAS.reduce.with_ops(ENAS.reduce.ops[:7] + (ops.NULL,) + ENAS.reduce.ops[8:])
  assert cell.dead_nodes() == () and cell.loose_ends() == cell.concat == (2, 3, 6)
  pruned = cell.pruned()
  assert pruned.ops[4:6] == (ops.NULL, ops.NULL) and pruned.concat == (2, 3, 6)
  assert pruned.dead_nodes() == (4,)  # dead now, and outside the output
  before, after = (cost.report(ENAS.replace(reduce=c)) for c in (cell, pruned))
  assert after["params"] < before["params"] and after["madds"] < before["madds"]


def test_a_cell_whose_every_output_is_dead_keeps_its_last_as_zeros():
  every_null = DARTS.reduce.with_ops((ops.NULL,) * 8)
  assert every_null.pruned().concat == (5,) and every_null.pruned().dead_outputs() == (5,)
  vgg = catalogue.get("VGG")
  cut = vgg.normal.with_ops(["null", "null", "null", "conv_3x3", "null", "conv_3x3", "null",
                             "skip_connect"])  # node 2 dead, so 3, 4 and the output 5 too
  assert cut.pruned().ops == (ops.NULL,) * 8 and cut.pruned().concat == (5,)


def test_published_genotypes_carry_dead_nodes_only_in_two_nat_outputs():
  """The reference's own transformations of random cells NAT_R2 and NAT_R3 output dead
  nodes; pruned, their CIFAR networks lose 13% and 21% of their multiply-adds."""
  changed = {name: catalogue.get(name) for name in catalogue.names()
             if catalogue.get(name).pruned() != catalogue.get(name)}
  assert {name: g.normal.dead_outputs() for name, g in changed.items()} == {
      "NAT_R2": (3,), "NAT_R3": (4, 5)}
  assert {name: (g.reduce.pruned() == g.reduce) for name, g in changed.items()} == {
      "NAT_R2": True, "NAT_R3": True}
  costs = {name: [cost.report(x)[key] for x in (g, g.pruned()) for key in ("params", "madds")]
           for name, g in changed.items()}
  assert costs == {"NAT_R2": [2_256_598, 357_604_992, 1_971_334, 309_827_808],
                   "NAT_R3": [2_996_182, 458_299_008, 2_425_654, 362_744_640]}


@pytest.mark.parametrize("kind, op_list", [("nat", "fully_concat"), ("nat", "loose_end"),
                                           ("natpp", "natpp")])
def test_null_is_valid_on_every_edge_so_a_pruned_cell_is_a_transformation(kind, op_list):
  space = action_spaces.action_space(kind, op_list)
  assert space.valid[:, :, space.action_names.index(ops.NULL)].all()
