"""Derivation: bin/derive end to end, the selection rules, policy exports, refusals."""

import json
import os

import gin
import numpy as np
import pytest
from PIL import Image, ImageChops
from tf_agents.trajectories import time_step as ts

from conftest import nulling_transformation
from conftest import run_bin
from nat_tf import export
from nat_tf.analysis import derive
from nat_tf.errors import UsageError
from nat_tf.report import diagram
from nat_tf.rl import control_policies
from nat_tf.rl import environment
from nat_tf.search import holdout
from nat_tf.space import action_spaces
from nat_tf.space import catalogue
from nat_tf.space import genotype as genotype_lib
from nat_tf.space import genotype_format

DARTS = catalogue.get("DARTS_V2")


def candidate(source, accuracy, madds, params=0):
  return derive.Candidate(source, DARTS, accuracy, params, madds)


def test_accuracy_rule_keeps_the_most_accurate_candidate_and_ties_go_to_the_cheaper():
  transformed = [candidate("a", 0.5, 10), candidate("b", 0.8, 60), candidate("c", 0.8, 50)]
  assert derive.Selection("accuracy")(candidate("input", 0.7, 100), transformed).source == "c"
  assert derive.Selection("accuracy")(candidate("input", 0.8, 40), transformed).source == "input"
  # The input is a candidate: a worse transformation is never kept.
  assert derive.Selection("accuracy")(candidate("input", 0.9, 100), transformed).source == "input"
  assert derive.Selection("accuracy")(candidate("input", 0.9, 100), []).source == "input"


def test_cheapest_within_tolerance_may_keep_the_input():
  original = candidate("input", 0.80, 100)
  transformed = [candidate("worse", 0.70, 10), candidate("close", 0.79, 50),
                 candidate("same", 0.80, 60), candidate("heavier", 0.80, 100)]
  assert derive.Selection("cheapest_within", 0.0)(original, transformed).source == "same"
  assert derive.Selection("cheapest_within", 0.02)(original, transformed).source == "close"
  assert derive.Selection("cheapest_within", 0.2)(original, transformed).source == "worse"
  assert derive.Selection("cheapest_within", 0.0)(original, transformed[:2]).source == "input"
  by_params = derive.Selection("cheapest_within", 0.0, "params")
  assert by_params(candidate("input", 0.8, 1, params=10),
                   [candidate("fewer params", 0.8, 5, params=1)]).source == "fewer params"
  for bad in ({"rule": "best"}, {"tolerance": -0.1}, {"cost_metric": "flops"}):
    with pytest.raises(UsageError):
      derive.Selection(**bad)


def test_cost_comparison_refuses_an_output_that_costs_more():
  table = derive.cost_comparison(DARTS, catalogue.get("NAT_DARTS"))
  assert table["cifar10"]["before"]["params"] == 3349342  # the reference code's count of DARTS_V2
  with pytest.raises(UsageError, match="more params than its input on the cifar10"):
    derive.cost_comparison(catalogue.get("NAT_DARTS"), DARTS)


def test_a_block_is_costed_on_its_own_networks_where_a_skip_from_node_0_can_cost_more():
  block = catalogue.get("ResBlock")
  assert set(derive.cost_settings(block)) == {"cifar10", "imagenet", "resnet20", "resnet56"}
  assert set(derive.cost_settings(DARTS)) == {"cifar10", "imagenet"}
  reads_node_0 = block.replace(normal=block.normal.with_ops(
      ["skip_connect", *block.normal.ops[1:]]))  # ('null', 0, 2) -> skip: an adaptation
  grown = derive.cost_increases(derive.cost_table(block, reads_node_0))
  assert grown and {setting for setting, *_ in grown} <= {"resnet20", "resnet56"}
  with pytest.raises(UsageError, match="more params than its input on the resnet20 network"):
    derive.cost_comparison(block, reads_node_0)
  original = derive.Candidate("input", block, 0.5, 1, 10, np.arange(10) < 5)
  costlier = derive.Candidate("reads node 0", reads_node_0, 1.0, 1, 1, np.ones(10, bool))
  for rule in derive.RULES:  # however accurate and cheap on the DARTS network: never kept
    assert derive.Selection(rule, tolerance=0.5)(original, [costlier]).source == "input"


def bin_cost(genotype_file, dataset):
  result = run_bin("cost", f"--genotype={genotype_file}", f"--dataset={dataset}")
  assert result.returncode == 0, result.stderr
  report = json.loads(result.stdout)
  del report["genotype"]
  return report


def test_bin_derive_writes_genotype_costs_and_diagram(tiny_run, tmp_path):
  output = str(tmp_path / "derived")
  result = run_bin("derive", f"--run_dir={tiny_run}", "--genotype=DARTS_V2",
                   f"--output_dir={output}", fresh=True)  # bin/derive's one whole process
  assert result.returncode == 0, result.stderr
  assert "* " in result.stdout and "derived genotype:" in result.stdout
  assert sorted(os.listdir(output)) == sorted(derive.OUTPUT_FILES)
  derived = genotype_format.parse(open(os.path.join(output, "genotype.json")).read())
  assert genotype_format.parse(open(os.path.join(output, "genotype.txt")).read()) == derived

  record = json.load(open(os.path.join(output, "derivation.json")))
  transformed = record["candidates"]
  assert [c["source"] for c in transformed] == ["greedy"] + [f"sample {i}" for i in range(1, 11)]
  assert record["chosen"]["accuracy"] == max(c["accuracy"] for c in transformed + [record["input"]])
  assert record["chosen"]["accuracy"] >= record["input"]["accuracy"]
  assert record["chosen"]["genotype"] == genotype_format.to_literal(derived)
  assert record["holdout_examples"] == 90  # every held-out example (test_data_splits)

  costs = json.load(open(os.path.join(output, "cost.json")))
  for dataset in ("cifar10", "imagenet"):
    assert costs[dataset]["before"] == bin_cost("DARTS_V2", dataset)
    assert costs[dataset]["after"] == bin_cost(os.path.join(output, "genotype.json"), dataset)
    for key in ("params", "madds"):
      assert costs[dataset]["after"][key] <= costs[dataset]["before"][key]

  with Image.open(os.path.join(output, "cells.png")) as image:
    assert image.format == "PNG"
    expected = diagram.comparison_image(DARTS, derived, ("DARTS_V2", "derived"))
    assert image.size == expected.size
    assert ImageChops.difference(image.convert("RGB"), expected).getbbox() is None


def test_bin_derive_refuses_a_genotype_of_another_node_count_in_one_line(tiny_run, tmp_path):
  output = tmp_path / "naonet"
  result = run_bin("derive", f"--run_dir={tiny_run}", "--genotype=NAONet",
                   f"--output_dir={output}")
  assert result.returncode == 2
  last = result.stderr.strip().splitlines()[-1]
  assert last.startswith("error: the genotype has 5 intermediate nodes per cell but the policy "
                         "was trained on 4")
  assert "configurable" not in last and not output.exists()


NAONET_OPS_ON_4_NODES = ("Genotype(normal=[('conv_1x3_3x1', 0, 2), ('skip_connect', 1, 2), "
                         "('sep_conv_3x3', 0, 3), ('null', 1, 3), ('skip_connect', 0, 4), "
                         "('sep_conv_3x3', 1, 4), ('skip_connect', 0, 5), ('null', 2, 5)], "
                         "normal_concat=[2, 3, 4, 5], reduce=[('avg_pool_2x2', 0, 2), "
                         "('skip_connect', 1, 2), ('sep_conv_3x3', 0, 3), ('null', 1, 3), "
                         "('skip_connect', 0, 4), ('sep_conv_3x3', 1, 4), ('skip_connect', 0, 5), "
                         "('null', 2, 5)], reduce_concat=[2, 3, 4, 5])")


def test_derive_refuses_ops_outside_the_policy_vocabulary(tiny_search):
  policies = derive.run_policies(tiny_search)
  with pytest.raises(UsageError, match="operation 'conv_1x3_3x1' is not in the fully_concat op"):
    derive.derive(tiny_search, genotype_format.parse(NAONET_OPS_ON_4_NODES), policies)
  with pytest.raises(UsageError, match="5 intermediate nodes"):
    derive.derive(tiny_search, catalogue.get("ENAS"), policies)


@pytest.mark.parametrize("block", ["VGG", "ResBlock", "MobileNetV2"])
def test_bin_derive_refuses_a_block_whose_output_the_run_cannot_score(tiny_run, tmp_path, block):
  output = tmp_path / block
  result = run_bin("derive", f"--run_dir={tiny_run}", f"--genotype={block}",
                   f"--output_dir={output}")
  assert result.returncode == 2
  last = result.stderr.strip().splitlines()[-1]
  assert last.startswith("error: the normal cell outputs nodes [5], but a transformer over the "
                         "fully_concat op list scores cells that output every intermediate node")
  assert "gin/quickstart_loose_end.gin" in last and not output.exists()


def test_a_cell_that_outputs_another_rule_is_refused_naming_both_rules(tiny_search):
  darts = catalogue.get("DARTS_V2")
  odd = darts.replace(normal=genotype_lib.Cell(darts.normal.edges, (2, 5)))
  with pytest.raises(UsageError, match=r"no transformer scores such a cell: its concat must be "
                                       r"every intermediate node \[2, 3, 4, 5\] or its loose ends"):
    derive.derive(tiny_search, odd, derive.run_policies(tiny_search))


def test_dead_outputs_are_found_through_chains_of_null_edges_and_warned_about():
  vgg = catalogue.get("VGG")
  assert vgg.normal.dead_outputs() == ()
  cut = vgg.normal.with_ops(["null", "null", "null", "conv_3x3", "null", "conv_3x3", "null",
                             "skip_connect"])  # node 2 dead, so 3, 4 and the output 5 too
  assert cut.dead_outputs() == (5,)
  assert vgg.replace(normal=cut).normal.dead_outputs() == (5,)
  warnings = derive.dead_output_warnings(vgg.replace(normal=cut))
  assert len(warnings) == 1 and "normal cell outputs node(s) [5]" in warnings[0]
  assert not derive.dead_output_warnings(vgg)


def _keep_policies(search):
  """(greedy, sampling) that change no edge: their transformation is the pruned input."""
  editor = search.editor
  keep = control_policies.KeepPolicy(ts.time_step_spec(editor.observe.spec),
                                     editor.action_spec, editor.action_space)
  return keep, keep


def test_the_supernet_scores_a_pruned_cell_exactly_as_the_unpruned(tiny_search):
  """Random transformations of DARTS_V2, half their edges null: pruning leaves every
  held-out image's result as it was (dead nodes and every op of them are zeros there)."""
  rng = np.random.default_rng(1)
  unpruned = []
  while len(unpruned) < 8:
    _, genotype = nulling_transformation(tiny_search.action_space, DARTS, rng)
    if genotype.pruned() != genotype:
      unpruned.append(genotype)
  pruned = [g.pruned() for g in unpruned]
  correct = holdout.HoldoutScorer(tiny_search).correct(unpruned + pruned)
  np.testing.assert_array_equal(correct[:8], correct[8:])


def test_derive_writes_a_cell_without_its_dead_node_and_its_lower_cost(tiny_search, tmp_path):
  """DARTS_V2 whose normal node 5 has only null inputs: every transformation leaves the
  node out of the output, scores as the input, costs less, and is kept (ties go to the
  cheaper); genotype.json, cost.json and derivation.json say so; the input is recorded
  as given."""
  dead = DARTS.replace(normal=DARTS.normal.with_ops(DARTS.normal.ops[:6] + ("null", "null")))
  result = derive.derive(tiny_search, dead, _keep_policies(tiny_search))
  assert {c.genotype for c in result.candidates} == {dead.pruned()}
  assert result.chosen.genotype.normal.concat == (2, 3, 4)
  assert result.chosen.accuracy == result.original.accuracy
  assert result.chosen.madds < result.original.madds
  output = str(tmp_path / "derived")
  derive.write(result, output)
  written = genotype_format.parse(open(os.path.join(output, "genotype.json")).read())
  assert written == dead.pruned()
  record = json.load(open(os.path.join(output, "derivation.json")))
  assert record["warnings"] == []
  assert genotype_format.parse(record["input"]["genotype"]) == dead
  costs = json.load(open(os.path.join(output, "cost.json")))
  for setting in ("cifar10", "imagenet"):
    for key in ("params", "madds"):
      assert costs[setting]["after"][key] < costs[setting]["before"][key], (setting, key)
  assert derive.dead_output_warnings(dead) and not derive.dead_output_warnings(written)


def test_exported_policies_derive_as_the_run_and_a_seed_repeats_them(tiny_search, tiny_run):
  loaded = export.load_policies(os.path.join(tiny_run, "policy"), tiny_search.editor)
  own = derive.run_policies(tiny_search)
  from_export = derive.proposals(loaded, tiny_search.editor, DARTS, samples=3, seed=5)
  from_run = derive.proposals(own, tiny_search.editor, DARTS, samples=3, seed=5)
  assert from_export[0] == from_run[0]  # greedy
  assert derive.proposals(loaded, tiny_search.editor, DARTS, samples=3, seed=5) == from_export
  for _, genotype in from_export:  # every sample is reachable by valid actions
    for name, cell in genotype.cells.items():
      assert len(cell.edges) == len(DARTS.cells[name].edges)
    derive.cost_comparison(DARTS, genotype)
  for kind, op_list in (("natpp", "natpp"), ("nat", "loose_end")):
    other = environment.ArchitectureEditor(action_spaces.action_space(kind, op_list), 4)
    with pytest.raises(UsageError, match="another node count, op list or action space"):
      export.load_policies(os.path.join(tiny_run, "policy"), other)
  with pytest.raises(UsageError, match="is not a policy export"):
    export.load_policies(tiny_run, tiny_search.editor)


def test_cheapest_within_derivation_never_loses_more_than_the_tolerance(tiny_search):
  gin.parse_config(["Selection.rule = 'cheapest_within'", "Selection.tolerance = 0.02",
                    "proposals.samples = 4"])
  try:
    result = derive.derive(tiny_search, DARTS, derive.run_policies(tiny_search))
  finally:
    gin.clear_config()
  assert len(result.candidates) == 5
  kept = result.chosen
  assert kept.accuracy >= result.original.accuracy - 0.02 - 1e-6
  eligible = [c for c in (result.original,) + result.candidates
              if c.accuracy >= result.original.accuracy - 0.02 - 1e-6]
  assert kept.madds == min(c.madds for c in eligible)
  assert "within 0.02" in result.rule
