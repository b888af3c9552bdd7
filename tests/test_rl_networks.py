"""Observation tensors, the GCN actor/value networks and the REINFORCE agent wiring."""

import numpy as np
import pytest
import tensorflow as tf
from spektral.utils import gcn_filter
from tf_agents.trajectories import time_step as ts

from nat_tf.nn import architecture as arch_lib
from nat_tf.rl import agent as agent_lib
from nat_tf.rl import environment
from nat_tf.rl import networks
from nat_tf.space import action_spaces
from nat_tf.space import catalogue
from nat_tf.space import graph

@pytest.fixture(autouse=True)
def small_encoder():
  import gin
  with gin.unlock_config():
    gin.bind_parameter("CellEncoder.edge_hidden", 8)
    gin.bind_parameter("CellEncoder.features", 16)
    gin.bind_parameter("CellEncoder.hidden", 8)
  yield
  gin.clear_config()


@pytest.mark.parametrize("name, kind, op_list", [
    ("DARTS", "nat", "fully_concat"), ("ENAS", "nat", "loose_end"), ("DARTS", "natpp", "natpp"),
    ("VGG", "nat", "loose_end"), ("R3", "natpp", "natpp")])
def test_tensorflow_observation_equals_numpy_graph(name, kind, op_list):
  genotype = catalogue.get(name)
  space = action_spaces.action_space(kind, op_list)
  editor = environment.ArchitectureEditor(space, genotype.num_nodes)
  observed = editor.observe(tf.constant(arch_lib.from_genotype(genotype, space.op_list)))
  expected = graph.genotype_graph(genotype, space)
  for key in ("op_ids", "sources", "adjacency", "mask"):
    np.testing.assert_array_equal(observed[key].numpy(), expected[key], err_msg=key)


def test_tensorflow_transformation_equals_numpy_rules():
  rng = np.random.default_rng(0)
  for kind, op_list in (("nat", "fully_concat"), ("natpp", "natpp")):
    space = action_spaces.action_space(kind, op_list)
    editor = environment.ArchitectureEditor(space, 4)
    archs = arch_lib.random(tf.random.Generator.from_seed(3), 16, 4, space.op_list)
    masks = editor.observe(archs)["mask"].numpy()
    actions = np.array([[[rng.choice(np.flatnonzero(m)) for m in cell] for cell in arch]
                        for arch in masks], np.int32)
    with tf.control_dependencies([editor.check(archs, actions)]):
      new = editor.apply(archs, actions).numpy()
    for arch, action, out in zip(archs.numpy(), actions, new):
      for cell in range(2):
        cell_obj = _cell(arch[cell], space)
        expected = space.apply(cell_obj, action[cell], reduction=bool(cell))
        assert tuple(space.op_list[i] for i in out[cell, 0]) == expected.ops
        np.testing.assert_array_equal(out[cell, 1], arch[cell, 1])


def _cell(arrays, space):
  from nat_tf.space import sampling
  return sampling.cell_from_arrays(arrays[0], arrays[1], space.op_list)


def test_invalid_action_is_a_clear_error():
  space = action_spaces.action_space("nat", "fully_concat")
  editor = environment.ArchitectureEditor(space, 4)
  darts = tf.constant(arch_lib.from_genotype(catalogue.get("DARTS"), space.op_list))[None]
  actions = np.zeros((1, 2, 8), np.int32)  # 'keep' on the skip edges is not allowed
  with pytest.raises(tf.errors.InvalidArgumentError, match="breaks the transition rules"):
    editor.check(darts, actions)
  with pytest.raises(ValueError, match="expected"):
    editor.check(darts, actions[:, 0])


def test_gcn_adjacency_is_the_standard_filter_of_the_undirected_graph():
  cell = catalogue.get("R1").normal
  a = graph.adjacency(cell.sources, cell.num_nodes)
  ours = networks.preprocess_adjacency(tf.constant(a), "gcn").numpy()
  np.testing.assert_allclose(ours, gcn_filter(a + a.T), rtol=1e-5)
  np.testing.assert_array_equal(networks.preprocess_adjacency(tf.constant(a), "reference"), a)


def _setup(kind="nat", op_list="fully_concat", batch=6, **actor_args):
  space = action_spaces.action_space(kind, op_list)
  editor = environment.ArchitectureEditor(space, 4)
  archs = arch_lib.random(tf.random.Generator.from_seed(5), batch, 4, space.op_list)
  observation = editor.observe(archs)
  actor = networks.GcnActorNetwork(editor.observe.spec, editor.action_spec,
                                   len(space.op_list), 4, **actor_args)
  actor.create_variables()
  return space, editor, observation, actor


@pytest.mark.parametrize("kind, op_list", [("nat", "fully_concat"), ("natpp", "natpp")])
@pytest.mark.parametrize("readout", ["edge", "reference"])
def test_actor_gives_no_probability_to_invalid_actions(kind, op_list, readout):
  _, _, observation, actor = _setup(kind, op_list, readout=readout)
  distribution, _ = actor(observation)
  probs = distribution.probs_parameter().numpy()
  mask = observation["mask"].numpy()
  assert probs.shape == mask.shape
  assert np.all(probs[~mask] == 0)
  np.testing.assert_allclose(probs.sum(-1), 1, rtol=1e-5)
  for sample in (distribution.sample(), distribution.mode()):
    chosen = np.take_along_axis(mask, sample.numpy()[..., None], -1)
    assert chosen.all()


def test_actor_and_value_accept_batch_and_time_dims():
  space, editor, observation, actor = _setup()
  nested = tf.nest.map_structure(lambda x: tf.stack([x, x], 1), observation)
  distribution, _ = actor(nested)
  assert distribution.probs_parameter().shape[:2] == (6, 2)
  value = networks.GcnValueNetwork(editor.observe.spec, len(space.op_list), 4)
  value.create_variables()
  assert value(nested)[0].shape == (6, 2)
  assert value(observation)[0].shape == (6,)


def test_weight_decay_is_a_regularisation_loss():
  _, _, _, actor = _setup()
  assert len(actor.losses) == len(actor.trainable_variables)
  assert float(tf.add_n(actor.losses)) > 0


def test_reinforce_learns_a_bandit_over_edges():
  """Reward = share of edges set to 'null': after training, null is far likelier than 1/3."""
  space = action_spaces.action_space("nat", "fully_concat")
  editor = environment.ArchitectureEditor(space, 4)
  time_step_spec = ts.time_step_spec(editor.observe.spec)
  agent, baseline = agent_lib.make_agent(time_step_spec, editor.action_spec,
                                         len(space.op_list), 4, learning_rate=1e-2,
                                         baseline="moving_average")
  generator = tf.random.Generator.from_seed(7)
  null = 2

  def null_share(batch=32):
    archs = arch_lib.random(generator, batch, 4, space.op_list)
    time_step = ts.restart(editor.observe(archs), batch)
    action_step = agent.collect_policy.action(time_step)
    reward = tf.reduce_mean(tf.cast(action_step.action == null, tf.float32), axis=[1, 2])
    return time_step, action_step, reward

  @tf.function
  def train_step():
    time_step, action_step, reward = null_share()
    next_step = ts.termination(time_step.observation, reward)
    experience = agent_lib.one_step_episodes(time_step, action_step, next_step,
                                             baseline.advantage(reward))
    agent.train(experience)
    return tf.reduce_mean(reward)

  before = float(tf.reduce_mean(null_share(256)[2]))
  for _ in range(60):
    train_step()
  after = float(tf.reduce_mean(null_share(256)[2]))
  assert before < 0.45 and after > before + 0.25, (before, after)
