"""Baselines and bin/compare: heuristics respect the masks, random search's budget, the table."""

import json
import os
import types

import gin
import pytest

from conftest import run_bin
from nat_tf.analysis import baselines
from nat_tf.analysis import compare
from nat_tf.analysis import derive
from nat_tf.errors import UsageError
from nat_tf.search import holdout
from nat_tf.space import action_spaces
from nat_tf.space import catalogue
from nat_tf.space import ops

DARTS = catalogue.get("DARTS_V2")


@pytest.mark.parametrize("kind, op_list", [("nat", "fully_concat"), ("natpp", "natpp")])
def test_skip_everywhere_changes_only_what_the_masks_allow(kind, op_list):
  space = action_spaces.action_space(kind, op_list)
  result = baselines.HEURISTICS["skip everywhere"](DARTS, space)
  assert result.normal.ops == ("skip_connect",) * 8  # every op of the normal cell
  # reduce: max pools leave the cell inputs (stride 2), where a skip is a factorized
  # reduce with parameters; only the stride-1 skips stay what they were
  assert result.reduce.ops == DARTS.reduce.ops
  derive.cost_comparison(DARTS, result)


def test_no_pooling_removes_every_pooling_edge_and_what_that_leaves_dead():
  space = action_spaces.action_space("nat", "fully_concat")
  for name in ("DARTS_V2", "ENAS", "VGG"):
    genotype = catalogue.get(name)
    result = baselines.HEURISTICS["no pooling"](genotype, space)
    unpruned = genotype.replace(**{
        cell_name: cell.with_ops([ops.NULL if ops.is_pooling(op) else op for op in cell.ops])
        for cell_name, cell in genotype.cells.items()})
    assert result == unpruned.pruned()
  # DARTS_V2's reduction cell reads its inputs through pools only: every node is dead
  darts = baselines.HEURISTICS["no pooling"](DARTS, space)
  assert darts.reduce.ops == (ops.NULL,) * 8 and darts.reduce.concat == (5,)


def test_the_single_edge_baseline_tries_every_change_of_one_edge_once():
  space = action_spaces.action_space("nat", "fully_concat")
  proposals = baselines.single_edge_proposals(DARTS, space)
  genotypes = [g for _, g in proposals]
  assert len(set(genotypes)) == len(genotypes) and DARTS not in genotypes
  assert not any(g.disconnected() for g in genotypes)
  for index, edge in enumerate(DARTS.normal.edges):  # each normal edge nulled, alone
    nulled = DARTS.replace(normal=DARTS.normal.with_ops(
        [ops.NULL if i == index else op for i, op in enumerate(DARTS.normal.ops)])).pruned()
    assert nulled in genotypes, (index, edge)
  most = sum(int(mask.sum()) - 1 for reduction, cell in enumerate((DARTS.normal, DARTS.reduce))
             for mask in space.edge_masks(cell, bool(reduction)))
  assert len(proposals) <= most
  assert proposals[0][0] == "normal edge 0->2: sep_conv_3x3 -> skip"  # NAT's action names


def test_random_search_proposes_valid_transformations_reproducibly(tiny_search):
  editor = tiny_search.editor
  first, rejected = baselines.random_proposals(editor, DARTS, 6, seed=3)
  assert [source for source, _ in first] == [f"random {i}" for i in range(1, 7)]
  assert baselines.random_proposals(editor, DARTS, 6, seed=3) == (first, rejected)
  assert baselines.random_proposals(editor, DARTS, 6, seed=4)[0] != first
  assert len({g for _, g in first}) > 1
  for _, genotype in first:
    assert not genotype.disconnected()
    derive.cost_comparison(DARTS, genotype)


def _cut(genotype):
  """`genotype` with its reduction cell's every edge null: disconnected."""
  return genotype.replace(reduce=genotype.reduce.with_ops([ops.NULL] * len(genotype.reduce.ops)))


@pytest.fixture
def scripted_draws(monkeypatch):
  """Makes random search's draws come from a list (the policy and editor are not used)."""
  draws = []
  monkeypatch.setattr(baselines.control_policies, "UniformValidPolicy", lambda *args: None)
  monkeypatch.setattr(baselines.ts, "time_step_spec", lambda spec: None)
  monkeypatch.setattr(baselines.transformations, "transform",
                      lambda policy, editor, genotype, count: [draws.pop(0) for _ in range(count)])
  return draws


def test_random_search_leaves_out_disconnected_draws_and_counts_them(scripted_draws):
  editor = types.SimpleNamespace(observe=types.SimpleNamespace(spec=None), action_spec=None)
  enas = catalogue.get("ENAS")
  scripted_draws += [_cut(DARTS), DARTS, _cut(DARTS), _cut(DARTS), enas, DARTS]
  proposals, rejected = baselines.random_proposals(editor, DARTS, 2, seed=0)
  assert proposals == [("random 1", DARTS), ("random 2", enas)] and rejected == 3
  scripted_draws[:] = [_cut(DARTS)] * (2 * (baselines.MOST_DRAWS_PER_PROPOSAL + 1))
  with pytest.raises(UsageError, match="drew 102 disconnected transformations of the input and "
                     "only 0 of the 2 connected ones"):
    baselines.random_proposals(editor, DARTS, 2, seed=0)


def test_compare_scores_every_row_as_the_holdout_scorer_does(tiny_search):
  gin.parse_config(["proposals.samples = 2"])
  try:
    table = compare.compare(tiny_search, DARTS, derive.run_policies(tiny_search), [0, 1])
  finally:
    gin.clear_config()
  rows = {row["method"]: row for row in table["rows"]}
  assert list(rows) == ["input", "NAT", "random search", "random search (10x)",
                        "best single edge", "skip everywhere", "no pooling"]
  assert table["evaluations_per_seed"] == 3  # greedy + 2 samples, and as many random ones
  space = tiny_search.action_space
  fixed = [DARTS] + [g for _, g in baselines.heuristic_proposals(DARTS, space)]
  accuracies = holdout.HoldoutScorer(tiny_search)(fixed)
  for method, accuracy in zip(["input", "skip everywhere", "no pooling"], accuracies):
    assert rows[method]["accuracy"]["values"] == pytest.approx([accuracy] * 2, abs=1e-6)
    assert rows[method]["accuracy"]["std"] == 0
  assert rows["input"]["changed_edges"]["mean"] == 0
  assert rows["skip everywhere"]["changed_edges"]["mean"] == 6  # DARTS' normal computational ops
  assert rows["skip everywhere"]["madds"]["mean"] < rows["input"]["madds"]["mean"]
  for method in compare.SEARCHED:
    assert len(rows[method]["accuracy"]["values"]) == 2
    assert rows[method]["madds"]["mean"] <= rows["input"]["madds"]["mean"]
  original, *single = derive.scored(holdout.HoldoutScorer(tiny_search), [("input", DARTS)]
                                    + baselines.single_edge_proposals(DARTS, space))
  best = derive.Selection()(original, single).accuracy
  assert rows["best single edge"]["accuracy"]["values"] == pytest.approx([best] * 2, abs=1e-6)


def test_bin_compare_prints_and_writes_the_table(tiny_run, tmp_path):
  output = str(tmp_path / "comparison")
  result = run_bin("compare", f"--run_dir={tiny_run}", "--genotype=DARTS_V2", "--seeds=0,1",
                   f"--output_dir={output}", "--gin_bindings=proposals.samples = 3",
                   fresh=True)  # bin/compare's one whole process
  assert result.returncode == 0, result.stderr
  table = json.load(open(os.path.join(output, "comparison.json")))
  markdown = open(os.path.join(output, "comparison.md")).read()
  assert markdown in result.stdout + "\n"
  assert table["seeds"] == [0, 1] and table["evaluations_per_seed"] == 4
  assert table["genotype"] == "DARTS_V2"
  lines = [line for line in markdown.splitlines() if line.startswith("| ")]
  assert len(lines) == 8  # header and seven rows
  for row, line in zip(table["rows"], lines[1:]):
    accuracy = row["accuracy"]
    assert line.startswith(f"| {row['method']} | {accuracy['mean']:.4f} ± {accuracy['std']:.4f} |")
