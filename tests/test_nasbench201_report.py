"""bench/nasbench201_report.py and its searches (bench/nasbench201_search.py) on the real
NAS-Bench-201 table: the oracle bounds every search and is what brute force finds, the
best-of-K and hill-climbing rules never lose the input or overspend, and the report runs
end to end on tiny policies (and reuses them), so its numbers cannot silently rot."""

import itertools
import json
import os
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bench"))

from conftest import run_program  # pylint: disable=wrong-import-position
import nasbench201_search as search  # pylint: disable=wrong-import-position
from nat_tf.data import nasbench201_table as table_lib  # pylint: disable=wrong-import-position
from nat_tf.space import action_spaces  # pylint: disable=wrong-import-position
from nat_tf.space import nasbench201  # pylint: disable=wrong-import-position


@pytest.fixture(scope="module", params=["nat", "natpp"])
def reach(request):
  rows = np.random.default_rng(0).choice(table_lib.halves(0)[1], 200, replace=False)
  return search.Reach(action_spaces.action_space(request.param, nasbench201.OP_LIST.name), rows)


@pytest.fixture(scope="module")
def accuracy(nasbench201_table):
  return nasbench201_table.accuracy[:, table_lib.dataset_column("cifar10")]


def test_the_oracle_bounds_every_search_and_no_search_loses_the_input(reach, accuracy):
  rng = np.random.default_rng(1)
  best = accuracy[search.oracle(reach, accuracy)]
  drawn = reach.rows_of(search.uniform_actions(reach, max(search.KS), rng))
  kept = list(search.best_of(reach, drawn, accuracy).values())
  kept += [rows for rows, _ in search.hill_climb(reach, accuracy, rng).values()]
  for rows in kept:
    assert (accuracy[rows] >= accuracy[reach.rows]).all()
    assert (best >= accuracy[rows]).all()
  for rows in [*search.heuristics(reach).values(), *drawn.T]:  # query-free: may lose
    assert (best >= accuracy[rows]).all()
  assert (best > accuracy[reach.rows]).mean() > 0.5


def test_the_oracle_is_the_best_of_a_brute_force_enumeration(reach, accuracy):
  space = reach.action_space
  oracle = search.oracle(reach, accuracy)
  for index in range(5):
    cell = nasbench201.from_op_ids(reach.op_ids[index])
    reached = set()
    for actions in itertools.product(range(space.num_actions), repeat=nasbench201.NUM_EDGES):
      try:
        reached.add(int(nasbench201.arch_index(nasbench201.op_ids(
            space.apply(cell, np.array(actions), reduction=False)))))
      except action_spaces.InvalidActionError:
        continue
    assert reach.candidates()[index] == len(reached)
    assert accuracy[oracle[index]] == max(accuracy[list(reached)])
    assert oracle[index] in reached


def test_hill_climbing_spends_at_most_k_queries_and_only_moves_within_reach(reach, accuracy):
  climbed = search.hill_climb(reach, accuracy, np.random.default_rng(2), chunk=64)
  previous_spent, previous_accuracy = 0, accuracy[reach.rows]
  for k in search.KS:
    rows, spent = climbed[k]
    assert (spent <= k).all() and (spent >= previous_spent).all()
    assert (accuracy[rows] >= previous_accuracy).all()
    op_ids = nasbench201.from_index(rows)
    assert np.take_along_axis(reach.ops, op_ids[..., None], -1).all()
    previous_spent, previous_accuracy = spent, accuracy[rows]
  assert (previous_spent < max(search.KS)).any()  # some climbs run out of neighbours


def test_random_search_with_more_queries_keeps_a_prefix_superset(reach, accuracy):
  drawn = reach.rows_of(search.uniform_actions(reach, max(search.KS), np.random.default_rng(3)))
  kept = search.best_of(reach, drawn, accuracy)
  assert (accuracy[kept[50]] >= accuracy[kept[1]]).all()
  assert accuracy[kept[50]].mean() > accuracy[kept[1]].mean()
  assert (search.distinct_new(reach, drawn) <= max(search.KS)).all()


def test_uniform_actions_draw_every_valid_action_equally_often(reach):
  actions = search.uniform_actions(reach, 600, np.random.default_rng(4))
  counts = reach.valid.sum(-1)
  for action in range(reach.action_space.num_actions):
    share = (actions == action).mean(1)
    assert np.allclose(share, np.where(reach.valid[..., action], 1 / counts, 0), atol=0.1)


def test_network_madds_are_the_network_cost():
  madds = search.network_madds()
  for name in ("resnet", "all_conv_3x3", "all_null"):
    cell = nasbench201.lookup(name)
    assert madds[nasbench201.arch_index(nasbench201.op_ids(cell))] == \
        nasbench201.network_cost(cell).madds


def test_equivalent_cells_differ_only_where_nothing_is_read():
  classes = search.equivalence_classes()
  assert (classes[classes] == classes).all()
  dead_node_2 = nasbench201.parse("|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|"
                                  "+|skip_connect~0|nor_conv_3x3~1|none~2|")
  row = nasbench201.arch_index(nasbench201.op_ids(dead_node_2))
  assert nasbench201.to_string(nasbench201.from_op_ids(nasbench201.from_index(classes[row]))) == \
      "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
  assert classes[nasbench201.arch_index(nasbench201.op_ids(nasbench201.lookup("resnet")))] == \
      nasbench201.arch_index(nasbench201.op_ids(nasbench201.lookup("resnet")))


def test_the_noise_estimates_are_zero_without_noise_and_positive_on_the_table(reach, accuracy):
  classes = search.equivalence_classes()
  sigma = search.noise_by_level(accuracy, classes)
  assert sigma.shape == accuracy.shape and (sigma > 0).all()
  rng = np.random.default_rng(5)
  pick = lambda noisy: search.oracle(reach, noisy)  # pylint: disable=unnecessary-lambda-assignment
  assert (search.optimism(reach, accuracy, np.zeros_like(sigma), rng, pick) == 0).all()
  assert search.optimism(reach, accuracy, sigma, rng, pick).mean() > 0


def _report(table, output_dir, seeds):
  return run_program(
      "bench/nasbench201_report.py", f"--table={table}", f"--output_dir={output_dir}",
      f"--seeds={seeds}", "--inputs=100", "--bindings=train_ground_truth.epochs = 1",
      "--bindings=train_ground_truth.steps_per_epoch = 2")


@pytest.mark.slow
def test_the_report_runs_end_to_end_and_reuses_its_runs(nasbench201_table_path, tmp_path):
  done = _report(nasbench201_table_path, tmp_path, "0,1")
  assert done.returncode == 0, done.stderr[-3000:]
  report = json.loads((tmp_path / "report.json").read_text())
  for dataset in table_lib.DATASETS:
    for subset in ("all", "best 10%"):
      results = report["datasets"][dataset][subset]
      assert results["oracle"]["all"]["mean"]["oracle_share"] == pytest.approx(1.0)
      assert results["input"]["0"]["mean"]["accuracy_change"] == 0.0
      assert results["hill-climbing"]["10"]["sd"]["accuracy_change"] is not None
  assert (tmp_path / "nasbench201.png").stat().st_size > 10_000
  assert "| NAT best of K |" in (tmp_path / "report.md").read_text()
  again = _report(nasbench201_table_path, tmp_path, "1")
  assert again.returncode == 0, again.stderr[-3000:]
  assert "seed 1: policy" in again.stdout and "reused" in again.stdout
