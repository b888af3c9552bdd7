"""The transformation MDP as a TF-Agents environment (nat_tf.rl.environment)."""

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.drivers import dynamic_step_driver
from tf_agents.trajectories import time_step as ts
from tf_agents.utils import nest_utils

from nat_tf.data import pipeline
from nat_tf.nn import architecture as arch_lib
from nat_tf.rl import control_policies
from nat_tf.rl import environment
from nat_tf.rl import reward
from nat_tf.space import catalogue
from nat_tf.space import cost
from nat_tf.space import genotype_format
from nat_tf.space import sampling


class _Batches:
  """Hands the environment known minibatches and remembers the last one."""

  def __init__(self, search):
    self.data = iter(pipeline.batches(search.splits.policy, search.info, 64, training=False))
    self.last = None

  def __next__(self):
    self.last = next(self.data)
    return self.last


def _environment(search, batch_size=4, cost_weight=0.0, fixed=None, cost_metric="madds"):
  env = environment.TransformationEnvironment(
      search.editor, search.scorer, search.supernet.skeleton,
      tf.random.Generator.from_seed(11), reward.Reward(cost_metric, cost_weight),
      batch_size=batch_size, input_architecture=fixed)
  batches = _Batches(search)
  env.use_minibatches(batches)
  return env, batches


def _masked_random_policy(env):
  return control_policies.UniformValidPolicy(env.time_step_spec(), env.action_spec())


def test_specs_time_steps_and_batch_shapes_pass_tf_agents_checks(digits_search):
  env, _ = _environment(digits_search, batch_size=3)
  assert env.batched and env.batch_size == 3
  first = env.reset()
  nest_utils.assert_matching_dtypes_and_inner_shapes(first, env.time_step_spec(),
                                                     caller="test", tensors_name="time step",
                                                     specs_name="spec")
  assert nest_utils.get_outer_shape(first, env.time_step_spec()).numpy().tolist() == [3]
  assert (first.step_type.numpy() == ts.StepType.FIRST).all()
  policy = _masked_random_policy(env)
  last = env.step(policy.action(first).action)
  nest_utils.assert_matching_dtypes_and_inner_shapes(last, env.time_step_spec(),
                                                     caller="test", tensors_name="time step",
                                                     specs_name="spec")
  assert (last.step_type.numpy() == ts.StepType.LAST).all()
  assert (last.discount.numpy() == 0).all()
  # After LAST, a step starts a new episode (and ignores the action), as TF-Agents expects.
  assert (env.step(policy.action(last).action).step_type.numpy() == ts.StepType.FIRST).all()


def test_a_tf_agents_driver_collects_one_step_episodes(digits_search):
  env, _ = _environment(digits_search, batch_size=2)
  transitions = []
  driver = dynamic_step_driver.DynamicStepDriver(
      env, _masked_random_policy(env), observers=[transitions.append], num_steps=8)
  driver.run(env.reset())
  episodes = [t for t in transitions if not t.is_boundary().numpy().any()]
  assert len(episodes) == 4  # 8 steps over 2 environments; boundaries not counted
  for episode in episodes:
    assert episode.is_first().numpy().all()
    assert (episode.next_step_type.numpy() == ts.StepType.LAST).all()
    assert np.isfinite(episode.reward.numpy()).all()
    assert np.abs(episode.reward.numpy()).max() <= 1


@pytest.mark.parametrize("cost_metric", ["madds", "params"])
def test_reward_is_accuracy_change_on_the_same_minibatch_minus_cost_term(digits_search,
                                                                         cost_metric):
  """The cost term counts the reward's own metric: the environment builds its cell cost
  from the reward, so a params reward is never paid in multiply-adds."""
  search = digits_search
  env, batches = _environment(search, batch_size=4, cost_weight=0.5, cost_metric=cost_metric)
  first = env.reset()
  inputs = np.stack([first.observation["op_ids"], first.observation["sources"]], axis=2)
  action = _masked_random_policy(env).action(first).action
  last = env.step(action)
  outputs = search.editor.apply(inputs, action).numpy()
  accuracy = search.scorer(*batches.last, np.concatenate([inputs, outputs])).numpy()
  accuracy_change = accuracy[4:] - accuracy[:4]
  skeleton = search.supernet.skeleton
  op_list = search.action_space.op_list
  expected_cost = []
  for before, after in zip(inputs, outputs):
    cells = [cost.cells_op_cost(_genotype(arch, op_list), skeleton, cost_metric)
             for arch in (before, after)]
    expected_cost.append((cells[1] - cells[0]) / cells[0])
  np.testing.assert_allclose(env.accuracy_change.numpy(), accuracy_change, atol=1e-6)
  np.testing.assert_allclose(env.cost_change.numpy(), expected_cost, rtol=1e-5)
  np.testing.assert_allclose(last.reward.numpy(),
                             accuracy_change - 0.5 * np.array(expected_cost), atol=1e-5)
  assert (np.array(expected_cost) <= 1e-9).all()  # valid actions never add cost


def _genotype(architecture, op_list):
  cells = [sampling.cell_from_arrays(a[0], a[1], op_list) for a in architecture]
  return genotype_format.genotype_lib.Genotype(*cells)


def test_fixed_input_architecture_is_observed(digits_search):
  search = digits_search
  darts = arch_lib.from_genotype(catalogue.get("DARTS"), search.action_space.op_list)
  env, _ = _environment(search, batch_size=2, fixed=darts)
  observation = env.reset().observation
  np.testing.assert_array_equal(observation["op_ids"].numpy(), np.stack([darts[:, 0]] * 2))


def test_an_action_breaking_the_rules_raises(digits_search):
  search = digits_search
  darts = arch_lib.from_genotype(catalogue.get("DARTS"), search.action_space.op_list)
  env, _ = _environment(search, batch_size=1, fixed=darts)
  env.reset()
  with pytest.raises(tf.errors.InvalidArgumentError, match="breaks the transition rules"):
    env.step(tf.zeros([1, 2, 8], tf.int32))  # 'keep' on DARTS's skip edges
