"""Held-out evaluation of policies: the placement control and the PolicyEvaluator."""

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from nat_tf.nn import architecture as arch_lib
from nat_tf.rl import control_policies
from nat_tf.rl import environment
from nat_tf.search import placement
from nat_tf.search import policy_eval
from nat_tf.space import action_spaces


@pytest.mark.parametrize("kind", ["nat", "natpp"])
def test_placement_moves_the_same_changes_to_valid_edges(kind):
  space = action_spaces.action_space(kind, "fully_concat" if kind == "nat" else "natpp")
  editor = environment.ArchitectureEditor(space, 4)
  observation = editor.observe(arch_lib.random(tf.random.Generator.from_seed(0), 300, 4,
                                                    space.op_list))
  policy = control_policies.UniformValidPolicy(ts.time_step_spec(editor.observe.spec),
                                               editor.action_spec)
  actions = policy.distribution(ts.restart(observation, 300)).action.sample(
      seed=tf.constant([1, 2])).numpy()
  observation = tf.nest.map_structure(np.asarray, observation)
  moved, unplaced = placement.placement_actions(actions, observation, space,
                                                np.random.default_rng(0))
  mask = observation["mask"]
  assert np.take_along_axis(mask, moved[..., None], -1).all()  # every action valid
  op_ids = observation["op_ids"]
  before = space.result[op_ids, actions]
  after = space.result[op_ids, moved]
  assert not np.array_equal(before, after)  # the changes did move
  placed = 0
  for cell in np.ndindex(op_ids.shape[:2]):
    wanted = sorted(before[cell][before[cell] != op_ids[cell]])
    got = sorted(after[cell][after[cell] != op_ids[cell]])
    assert set(got) <= set(wanted) and len(wanted) - len(got) >= 0
    placed += len(got)
    if kind == "nat":
      assert got == wanted  # NAT: the same changes, always
  assert placed + unplaced == int(np.sum(before != op_ids))


def test_placement_of_nat_is_uniform_over_valid_arrangements():
  """One normal cell of 8 computational edges and a skip; the policy nulls one edge:
  the null lands on each edge equally often (the skip edge included)."""
  space = action_spaces.action_space("nat", "fully_concat")
  op_list = space.op_list
  ops = np.array([op_list.index("sep_conv_3x3")] * 7 + [op_list.skip_id])
  sources = np.array([0, 1, 0, 1, 0, 1, 0, 1])
  architecture = np.stack([np.stack([ops, sources])] * 2)[None]
  observe = environment.ArchitectureEditor(space, 4).observe
  observation = tf.nest.map_structure(np.asarray, observe(tf.constant(architecture, tf.int32)))
  actions = np.zeros((1, 2, 8), np.int32)
  actions[..., 7] = 1  # the skip edge keeps its op (its 'keep' is the skip action)
  actions[0, 0, 2] = 2  # null on edge 2 of the normal cell
  rng = np.random.default_rng(0)
  hits = np.zeros(8)
  for _ in range(4000):
    moved, _ = placement.placement_actions(actions, observation, space, rng)
    hits += space.result[ops, moved[0, 0]] == op_list.null_id
  assert hits.sum() == 4000
  np.testing.assert_allclose(hits / 4000, 1 / 8, atol=0.025)


def test_evaluator_scores_the_policies(digits_search):
  evaluator = policy_eval.PolicyEvaluator(digits_search, num_cells=24)
  scores, unplaced = evaluator.evaluate()
  assert unplaced == 0 and set(scores) == set(policy_eval.POLICIES)
  summaries = {name: score.summary() for name, score in scores.items()}
  keep = summaries["keep"]
  assert keep["accuracy_change"] == 0 and keep["madds_change"] == 0 and keep["kept"] == 1
  uniform = summaries["uniform"]
  assert uniform["madds_change"] < -0.3 and uniform["params_change"] < -0.3
  for summary in summaries.values():
    assert summary["kept"] + summary["skipped"] + summary["nulled"] == pytest.approx(1)
  assert summaries["placement"]["changed"] == pytest.approx(summaries["greedy"]["changed"])
  again, _ = evaluator.evaluate()
  np.testing.assert_array_equal(again["sampling"].accuracy_change,
                                scores["sampling"].accuracy_change)


def test_accuracy_uses_every_held_out_image(digits_search):
  evaluator = policy_eval.PolicyEvaluator(digits_search, num_cells=3, batch_size=32)
  size = digits_search.splits.holdout_size
  assert sum(int(labels.shape[0]) for _, labels in evaluator.holdout.batches) == size
  accuracy = evaluator.holdout.accuracy(evaluator.inputs)
  assert np.all(np.abs(accuracy * size - np.round(accuracy * size)) < 1e-4)
