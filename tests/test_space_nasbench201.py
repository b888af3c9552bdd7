"""NAS-Bench-201's cell space (nat_tf.space.nasbench201): strings, op ids and table rows,
named cells, the network's cost, and the action spaces over its op list."""

import csv

import numpy as np
import pytest

from nat_tf.errors import UsageError
from nat_tf.space import action_spaces
from nat_tf.space import catalogue
from nat_tf.space import cost
from nat_tf.space import genotype
from nat_tf.space import nasbench201
from nat_tf.space import ops

RESNET = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
# The ResNet cell as (op, source, target), read off the string by hand.
RESNET_EDGES = [("conv_3x3", 0, 1), ("null", 0, 2), ("conv_3x3", 1, 2),
                ("skip_connect", 0, 3), ("null", 1, 3), ("skip_connect", 2, 3)]
TINY = {"num_classes": 4, "channels": 3, "cells_per_stage": 1, "image_size": 8,
        "in_channels": 1}
SIZINGS = [{}, TINY]  # {}: the benchmark's network


def _table_strings(path):
  with open(path, newline="", encoding="utf-8") as handle:
    return [row["arch"] for row in csv.DictReader(handle)]


def test_every_table_string_round_trips_and_has_its_own_row(nasbench201_table_path):
  strings = _table_strings(nasbench201_table_path)
  assert len(strings) == 15625
  rows = set()
  for text in strings:
    cell = nasbench201.parse(text)
    assert nasbench201.to_string(cell) == text
    rows.add(int(nasbench201.arch_index(nasbench201.op_ids(cell))))
  assert rows == set(range(15625))


def test_parse_reads_each_op_onto_its_edge():
  cell = nasbench201.parse(RESNET)
  assert [(e.op, e.src, e.dst) for e in cell.edges] == RESNET_EDGES
  assert cell.concat == (3,)


def test_names_map_the_benchmark_ops_onto_the_projects_families():
  assert ops.op_list("nasbench201") is ops.NASBENCH201
  assert ops.OP_LISTS["nasbench201"] == ("avg_pool_3x3", "skip_connect", "conv_1x1", "conv_3x3",
                                         "null")
  assert nasbench201.BENCHMARK_NAMES == {
      "null": "none", "skip_connect": "skip_connect", "conv_1x1": "nor_conv_1x1",
      "conv_3x3": "nor_conv_3x3", "avg_pool_3x3": "avg_pool_3x3"}
  assert {v: k for k, v in nasbench201.BENCHMARK_NAMES.items()} == nasbench201.PROJECT_NAMES
  assert ops.op_spec("conv_3x3") == ops.OpSpec(ops.OpFamily.CONV, 3)
  assert ops.op_spec("conv_1x1") == ops.OpSpec(ops.OpFamily.CONV, 1)
  assert ops.op_spec("avg_pool_3x3") == ops.OpSpec(ops.OpFamily.POOL, 3, "avg")


GOOD = RESNET
MALFORMED = [
    ("", "empty"),
    ("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|", "2 '+'-separated group(s), not 3"),
    (GOOD + "+|none~0|", "4 '+'-separated group(s), not 3"),
    ("|nor_conv_3x3~0|+|none~0|+|skip_connect~0|none~1|skip_connect~2|",
     "group 2 '|none~0|' has 1 edge(s); node 2 has 2"),
    ("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|",
     "has 2 edge(s); node 3 has 3"),
    (GOOD.replace("nor_conv_3x3~0|+", "nor_conv_3x3~1|+"), "'nor_conv_3x3~1' of group 1 must read "
                                                           "'op~0'"),
    (GOOD.replace("skip_connect~2", "skip_connect~1"), "must read 'op~2'"),
    (GOOD.replace("skip_connect~2", "skip_connect"), "'skip_connect' of group 3 must read 'op~2'"),
    (GOOD.replace("none~1", "none~01"), "must read 'op~1'"),
    (GOOD.replace("|none~0|", "|nor_conv_3x4~0|"),
     "unknown op 'nor_conv_3x4' in 'nor_conv_3x4~0'"),
    (GOOD.replace("nor_conv_3x3~0|+", "conv_3x3~0|+"), "did you mean 'nor_conv_3x3'?"),
    (" " + GOOD, "must start and end with '|'"),
    (GOOD + "\n", "must start and end with '|'"),
    (GOOD + "x", "must start and end with '|'"),
    ("|" + GOOD, "has 2 edge(s); node 1 has 1"),
    (GOOD.replace("|+|", "|+ |", 1), "must start and end with '|'"),
    (GOOD.replace("none~0", "none ~0"), "unknown op 'none '"),
]


@pytest.mark.parametrize("text, problem", MALFORMED)
def test_a_malformed_string_is_refused_naming_the_problem(text, problem):
  with pytest.raises(UsageError) as error:
    nasbench201.parse(text)
  assert problem in str(error.value)
  assert repr(text) in str(error.value)


@pytest.mark.parametrize("value, problem", [
    ("|" * 1001, "1001 characters long"),
    (None, "got None"),
    (RESNET.encode(), "is a string"),
])
def test_a_long_string_or_another_type_is_refused(value, problem):
  with pytest.raises(UsageError, match=problem):
    nasbench201.parse(value)


def test_a_cell_of_another_space_is_refused():
  darts_cell = catalogue.get("DARTS_V2").normal
  resnet = nasbench201.parse(RESNET)
  for bad, problem in [
      (darts_cell, "not a NAS-Bench-201 cell: edges ((0, 2), (1, 2)"),
      (resnet.with_ops(["sep_conv_3x3"] + list(resnet.ops[1:])),
       "edge 0 -> 1 holds 'sep_conv_3x3'"),
      (genotype.Cell(resnet.edges, (2, 3)), "output nodes (2, 3)"),
      ("resnet", "'resnet' is not a cell")]:
    for function in (nasbench201.to_string, nasbench201.op_ids):
      with pytest.raises(UsageError) as error:
        function(bad)
      assert problem in str(error.value)


def _index_by_the_formula(ids):
  """The row as the issue defines it, one edge at a time."""
  return sum(int(op_id) * 5 ** edge for edge, op_id in enumerate(ids))


def test_arch_index_and_from_index_are_inverse_and_follow_the_formula():
  every = np.arange(15625)
  ids = nasbench201.from_index(every)
  assert ids.shape == (15625, 6) and ids.dtype == np.int32
  assert np.array_equal(nasbench201.arch_index(ids), every)
  assert len({tuple(row) for row in ids}) == 15625
  for row in (0, 1, 5848, 15624):
    assert _index_by_the_formula(ids[row]) == row
  resnet_ids = nasbench201.op_ids(nasbench201.parse(RESNET))
  assert resnet_ids.dtype == np.int32
  assert resnet_ids.tolist() == [ops.NASBENCH201.index(op) for op, _, _ in RESNET_EDGES]
  assert nasbench201.arch_index(resnet_ids) == _index_by_the_formula(resnet_ids)
  assert nasbench201.to_string(nasbench201.from_op_ids(resnet_ids)) == RESNET
  assert nasbench201.NUM_ARCHS == 15625 and nasbench201.NUM_EDGES == 6


@pytest.mark.parametrize("ids, problem", [
    ([0, 1, 2, 3, 4, 5], "op id 5 is outside 0..4"),
    ([0, 1, 2, 3, 4, -1], "op id -1 is outside 0..4"),
    ([0, 1, 2, 3, 4], "shape (5,)"),
    ([0.0, 1, 2, 3, 4, 0], "dtype float64"),
    (3, "shape ()"),
])
def test_bad_op_ids_are_refused(ids, problem):
  for function in (nasbench201.arch_index, nasbench201.from_op_ids):
    with pytest.raises(UsageError) as error:
      function(ids)
    assert problem in str(error.value)


def test_from_op_ids_takes_one_cell_and_from_index_a_row():
  with pytest.raises(UsageError, match=r"shape \(2, 6\): one cell is 6 op ids"):
    nasbench201.from_op_ids(np.zeros((2, 6), np.int32))
  for bad, problem in [(15625, "15625 is outside 0..15624"), (-1, "-1 is outside"),
                       (1.5, "dtype float64")]:
    with pytest.raises(UsageError, match=problem):
      nasbench201.from_index(bad)


def test_lookup_takes_a_name_or_a_string():
  assert nasbench201.lookup("resnet") == nasbench201.parse(RESNET)
  assert nasbench201.lookup(RESNET) == nasbench201.parse(RESNET)
  assert nasbench201.RESNET == RESNET
  assert nasbench201.lookup("all_conv_3x3").ops == ("conv_3x3",) * 6
  for op in ops.NASBENCH201:
    assert set(nasbench201.lookup(f"all_{op}").ops) == {op}
  with pytest.raises(UsageError, match="unknown NAS-Bench-201 cell 'resnt'.*did you mean 'resnet'"):
    nasbench201.lookup("resnt")
  with pytest.raises(UsageError, match="group 3"):
    nasbench201.lookup(RESNET[:-1])


def _hand_counted_params(conv_3x3, conv_1x1, num_classes=10, channels=16, cells=5,
                         in_channels=3):
  """Parameters of the benchmark's network whose every cell has `conv_3x3` and `conv_1x1`
  edges (pool, skip and null edges have none), counted layer by layer as the benchmark's
  TinyNetwork is written: stem conv + BN, cells, two residual blocks, BN, linear."""
  widths = [channels, 2 * channels, 4 * channels]
  stem = in_channels * channels * 9 + 2 * channels
  cell_params = sum(cells * (conv_3x3 * (9 * w * w + 2 * w) + conv_1x1 * (w * w + 2 * w))
                    for w in widths)
  blocks = sum((9 * w * 2 * w + 4 * w) + (9 * 2 * w * 2 * w + 4 * w) + w * 2 * w
               for w in widths[:2])
  return stem + cell_params + blocks + 2 * widths[2] + widths[2] * num_classes + num_classes


@pytest.mark.parametrize("name, conv_3x3, conv_1x1", [
    ("all_conv_3x3", 6, 0), ("all_conv_1x1", 0, 6), ("resnet", 2, 0), ("all_null", 0, 0),
    ("all_skip_connect", 0, 0), ("all_avg_pool_3x3", 0, 0)])
@pytest.mark.parametrize("sizing", [{}, {"num_classes": 100}, {"channels": 8, "cells": 2,
                                                               "in_channels": 1}])
def test_network_params_equal_a_count_by_hand(name, conv_3x3, conv_1x1, sizing):
  cost_sizing = {("cells_per_stage" if k == "cells" else k): v for k, v in sizing.items()}
  result = nasbench201.network_cost(nasbench201.lookup(name), **cost_sizing)
  assert result.params == _hand_counted_params(conv_3x3, conv_1x1, **sizing)
  assert (result.params_auxiliary, result.madds_auxiliary) == (0, 0)


def test_the_benchmarks_published_sizes():
  """NAS-Bench-201's API: 1.531546 M parameters for every edge nor_conv_3x3 on CIFAR-10,
  0.073306 M for the smallest cells (no parametric op)."""
  assert nasbench201.network_cost(nasbench201.lookup("all_conv_3x3")).params == 1_531_546
  assert nasbench201.network_cost(nasbench201.lookup("all_null")).params == 73_306


def test_network_madds_of_a_cell_without_convs_equal_a_count_by_hand():
  """Stem, the two residual blocks (3x3 stride-2, 3x3, and the 1x1 shortcut after 2x2
  pooling) and the classifier, at 32x32 inputs."""
  stem = 3 * 16 * 9 * 32 * 32
  block1 = (16 * 32 * 9 + 32 * 32 * 9 + 16 * 32) * 16 * 16
  block2 = (32 * 64 * 9 + 64 * 64 * 9 + 32 * 64) * 8 * 8
  assert nasbench201.network_cost(nasbench201.lookup("all_null")).madds == (
      stem + block1 + block2 + 64 * 10)
  conv_3x3_cells = 5 * sum(9 * w * w * s * s for w, s in ((16, 32), (32, 16), (64, 8)))
  assert nasbench201.network_cost(nasbench201.lookup("all_conv_3x3")).madds == (
      stem + block1 + block2 + 64 * 10 + 6 * conv_3x3_cells)


def _random_cells(count, seed=0):
  rng = np.random.default_rng(seed)
  return [nasbench201.from_op_ids(ids) for ids in rng.integers(0, 5, size=(count, 6))]


@pytest.mark.parametrize("metric", cost.COST_METRICS)
@pytest.mark.parametrize("sizing", SIZINGS)
def test_the_op_cost_table_sums_to_the_cells_op_cost(metric, sizing):
  table = np.array(nasbench201.cell_op_cost_table(ops.NASBENCH201, metric, **sizing))
  assert table.shape == (5,) and table[ops.NASBENCH201.index("conv_3x3")] > 0
  null_cost = nasbench201.network_cost(nasbench201.lookup("all_null"), **sizing)
  for cell in _random_cells(200):
    direct = nasbench201.cells_op_cost(cell, metric, **sizing)
    assert table[nasbench201.op_ids(cell)].sum() == direct
    # The rest of the network costs what a cell of null edges does.
    total = getattr(nasbench201.network_cost(cell, **sizing), metric)
    assert total == getattr(null_cost, metric) + direct


def test_the_op_cost_table_takes_an_op_list_by_name():
  by_name = nasbench201.cell_op_cost_table("natpp", "params", **TINY)
  assert len(by_name) == len(ops.NATPP)
  assert by_name[ops.NATPP.index("conv_3x3")] == nasbench201.cell_op_cost_table(
      ops.NASBENCH201, "params", **TINY)[ops.NASBENCH201.index("conv_3x3")]


@pytest.mark.parametrize("kind", ["nat", "natpp"])
@pytest.mark.parametrize("sizing", SIZINGS)
def test_no_valid_action_makes_an_edge_costlier(kind, sizing):
  space = action_spaces.ActionSpace(kind, "nasbench201")
  tables = {metric: nasbench201.cell_op_cost_table(ops.NASBENCH201, metric, **sizing)
            for metric in cost.COST_METRICS}
  moves = 0
  for op_id in range(len(ops.NASBENCH201)):
    for action in np.flatnonzero(space.valid[0, op_id]):
      target = space.result[op_id, action]
      moves += target != op_id
      for table in tables.values():
        assert table[target] <= table[op_id], (kind, ops.NASBENCH201[op_id], action)
  # NAT: each of the three computational ops to skip or null, skip <-> null. NAT++ adds
  # conv_3x3 -> conv_1x1 and conv_3x3 -> avg_pool_3x3.
  assert moves == (8 if kind == "nat" else 10)


@pytest.mark.parametrize("kind", ["nat", "natpp"])
def test_transformed_cells_stay_in_the_space_and_never_cost_more(kind):
  space = action_spaces.ActionSpace(kind, "nasbench201")
  rng = np.random.default_rng(1)
  changed = 0
  for cell in _random_cells(300, seed=2):
    masks = space.edge_masks(cell, False)
    actions = [rng.choice(np.flatnonzero(row)) for row in masks]
    new = space.apply(cell, actions, False)
    nasbench201.check(new)
    changed += new != cell
    before, after = nasbench201.network_cost(cell), nasbench201.network_cost(new)
    assert after.params <= before.params and after.madds <= before.madds, (cell, new)
  assert changed > 250


@pytest.mark.parametrize("sizing, problem", [
    ({"channels": 0}, "channels=0 must be an integer >= 1"),
    ({"channels": 16.0}, "channels=16.0 must be an integer"),
    ({"channels": 1025}, "channels=1025 is above 1024"),
    ({"cells_per_stage": 0}, "cells_per_stage=0 must be an integer >= 1"),
    ({"cells_per_stage": 101}, "cells_per_stage=101 is above 100"),
    ({"image_size": 30}, "image_size=30 must be a multiple of 4"),
    ({"image_size": 2}, "image_size=2 must be an integer >= 4"),
    ({"image_size": 2048}, "image_size=2048 is above"),
    ({"num_classes": True}, "num_classes=True must be an integer"),
    ({"in_channels": 0}, "in_channels=0 must be an integer >= 1"),
])
def test_a_bad_sizing_is_refused(sizing, problem):
  cell = nasbench201.lookup("resnet")
  for call in (lambda: nasbench201.network_cost(cell, **sizing),
               lambda: nasbench201.cells_op_cost(cell, "params", **sizing),
               lambda: nasbench201.cell_op_cost_table(ops.NASBENCH201, "params", **sizing)):
    with pytest.raises(UsageError) as error:
      call()
    assert problem in str(error.value)


def test_an_unknown_metric_is_refused():
  with pytest.raises(UsageError, match="'param' is not one of.*did you mean 'params'"):
    nasbench201.cell_op_cost_table(ops.NASBENCH201, "param")
  with pytest.raises(UsageError, match="'flops' is not one of"):
    nasbench201.cells_op_cost(nasbench201.lookup("resnet"), "flops")
