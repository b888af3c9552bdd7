"""The architecture-transformation MDP as a batched TF-Agents environment.

One episode is one step (the reference code): reset draws B input
architectures (random cells as the reference samples them, or a given genotype);
the action holds one transition per edge of both cells; the step transforms the
inputs, scores inputs and outputs on the SAME minibatch with the SAME supernet
weights, and ends the episode with NAT's reward (`reward.Reward`: the accuracy change
minus cost_weight times the relative change of the cells' op cost, from the analytic
model). Everything stays in TensorFlow.
"""

import gin
import numpy as np
import tensorflow as tf
from tf_agents.environments import tf_environment
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts

from nat_tf.errors import UsageError
from nat_tf.nn import architecture as arch_lib
from nat_tf.rl import observation as observation_lib
from nat_tf.space import cost as cost_lib


class ArchitectureEditor:
  """Applies per-edge actions to architecture tensors and checks them against the rules."""

  def __init__(self, action_space, layout):
    """`layout`: the cell space's graph.CellLayout, or a DARTS node count."""
    self.action_space = action_space
    self.observe = observation_lib.ObservationBuilder(action_space, layout)
    self.layout = self.observe.layout
    self.num_nodes = self.layout.num_nodes
    self._result = tf.constant(action_space.result)

  @property
  def action_spec(self):
    return tensor_spec.BoundedTensorSpec((self.layout.num_cells, self.layout.num_edges), tf.int32,
                                         0, self.action_space.num_actions - 1, name="action")

  def check(self, architectures, actions):
    """An assertion op: every action is valid for its edge (clear message otherwise)."""
    actions = tf.convert_to_tensor(actions, tf.int32)
    expected = architectures.shape[:-3].concatenate(self.action_spec.shape)
    if not actions.shape.is_compatible_with(expected):
      raise UsageError(f"actions have shape {actions.shape}; expected {expected} "
                       "(batch, cell, edge)")
    in_range = tf.logical_and(actions >= 0, actions < self.action_space.num_actions)
    clipped = tf.clip_by_value(actions, 0, self.action_space.num_actions - 1)
    mask = self.observe.mask(architectures[..., arch_lib.OP_IDS, :],
                             architectures[..., arch_lib.SOURCES, :])
    valid = tf.logical_and(in_range, tf.gather(mask, clipped, batch_dims=mask.shape.rank - 1))
    first_bad = tf.where(tf.logical_not(valid))[:1]
    return tf.debugging.Assert(
        tf.reduce_all(valid),
        ["an action breaks the transition rules of the", self.action_space.kind,
         "action space; first bad (batch, cell, edge):", first_bad,
         "action:", tf.gather_nd(actions, first_bad),
         "op id:", tf.gather_nd(architectures[..., arch_lib.OP_IDS, :], first_bad)])

  def apply(self, architectures, actions):
    """Transformed architectures: op ids replaced by result[op, action]; sources kept."""
    actions = tf.convert_to_tensor(actions, tf.int32)
    op_ids = architectures[..., arch_lib.OP_IDS, :]
    results = tf.gather(self._result, op_ids)  # [..., 2, E, K]: every action's outcome
    new_ops = tf.gather(results, actions, batch_dims=actions.shape.rank)
    return tf.stack([new_ops, architectures[..., arch_lib.SOURCES, :]], axis=-2)


class CellCost:
  """The cells' op cost of architecture tensors, by gathers from an analytic table
  [cell, strided (0, 1), op id] of one edge's cost summed over the network's cells of that
  kind; `layout` says which edges are strided."""

  def __init__(self, table, layout):
    self._table = tf.constant(np.array(table, np.float64), tf.float32)
    self._layout = layout
    self._strided_cells = tf.constant(np.array(layout.strided_cells)[:, None])

  def __call__(self, architectures):
    op_ids = architectures[..., arch_lib.OP_IDS, :]
    cells = self._layout.num_cells
    cell = tf.broadcast_to(tf.range(cells)[:, None], tf.shape(op_ids))
    strided = tf.cast(tf.logical_and(self._strided_cells, architectures[..., arch_lib.SOURCES, :]
                                     < self._layout.num_inputs), tf.int32)
    per_edge = tf.gather_nd(self._table, tf.stack([cell, strided, op_ids], axis=-1))
    return tf.reduce_sum(per_edge, axis=[-2, -1])


@gin.configurable(denylist=["editor", "score_fn", "skeleton", "generator", "reward"])
class TransformationEnvironment(tf_environment.TFEnvironment):
  """Batched one-step episodes: observe B inputs, act on every edge, get the reward."""

  def __init__(self, editor, score_fn, skeleton, generator, reward, batch_size=1,
               input_architecture=None):
    """`score_fn(images, labels, architectures [M,2,2,E]) -> accuracy [M]` (supernet);
    `skeleton`: the network's cell slots, which the cells' op cost is taken over;
    `reward`: a reward.Reward, kept as `self.reward`; its `cost_metric` is the one
    `self.cell_cost` counts, built here so that the two cannot disagree;
    `input_architecture`: a fixed [2,2,E] input (derivation) or None for the
    reference's random inputs. Minibatches come from `use_minibatches`.

    Another cell space or another judge of accuracy (a benchmark's table) is a subclass
    that overrides `make_cell_cost`, `_accuracy` and `_draw_inputs`."""
    self.editor = editor
    observe = editor.observe
    time_step_spec = ts.time_step_spec(observe.spec, tensor_spec.TensorSpec((), tf.float32))
    super().__init__(time_step_spec, editor.action_spec, batch_size)
    self._score = score_fn
    self._minibatches = None
    self._skeleton = skeleton
    self.cell_cost = self.make_cell_cost(reward.cost_metric)
    self._generator = generator
    self._fixed_input = (None if input_architecture is None
                         else tf.constant(input_architecture, tf.int32))
    self.reward = reward
    shape = (batch_size, editor.layout.num_cells, 2, observe.edges)
    self._architectures = tf.Variable(tf.zeros(shape, tf.int32), trainable=False)
    self._step_type = tf.Variable(tf.fill([batch_size], ts.StepType.LAST), trainable=False)
    self._reward = tf.Variable(tf.zeros([batch_size]), trainable=False)
    # The reward's parts, for summaries: accuracy change and relative cost change.
    self.accuracy_change = tf.Variable(tf.zeros([batch_size]), trainable=False)
    self.cost_change = tf.Variable(tf.zeros([batch_size]), trainable=False)

  def use_minibatches(self, iterator):
    """Draw the scoring minibatches from `iterator` (one per step).

    A training loop passes its epoch's iterator into its traced step function and
    binds it here inside that function, so a new epoch's iterator never retraces.
    """
    self._minibatches = iterator

  def make_cell_cost(self, metric):
    """A CellCost of the cells in `metric` ('madds' or 'params'), over the skeleton's cells."""
    return CellCost(cost_lib.edge_cost_table(self.editor.action_space.op_list, self._skeleton,
                                             metric), self.editor.layout)

  def _accuracy(self, architectures):
    """Accuracy [M] of architectures [M, cells, 2, E]: the supernet's, on the next minibatch."""
    if self._minibatches is None:
      raise UsageError("TransformationEnvironment has no minibatches: call use_minibatches")
    images, labels = next(self._minibatches)
    return self._score(images, labels, architectures)

  def _draw_inputs(self):
    if self._fixed_input is not None:
      return tf.tile(self._fixed_input[None], [self.batch_size, 1, 1, 1])
    op_list = self.editor.action_space.op_list
    return arch_lib.random(self._generator, self.batch_size, self.editor.num_nodes, op_list)

  def _time_step(self):
    step_type = self._step_type.value()
    first = tf.equal(step_type, ts.StepType.FIRST)
    return ts.TimeStep(step_type, self._reward.value(),
                       tf.where(first, 1.0, 0.0),
                       self.editor.observe(self._architectures.value()))

  def _current_time_step(self):
    return self._time_step()

  def _reset(self):
    self._architectures.assign(self._draw_inputs())
    self._step_type.assign(tf.fill([self.batch_size], ts.StepType.FIRST))
    self._reward.assign(tf.zeros([self.batch_size]))
    return self._time_step()

  def _step(self, action):
    return tf.cond(tf.reduce_any(tf.equal(self._step_type, ts.StepType.LAST)),
                   self._reset, lambda: self._transform(action))

  def _transform(self, action):
    inputs = self._architectures.value()
    with tf.control_dependencies([self.editor.check(inputs, action)]):
      outputs = self.editor.apply(inputs, action)
    accuracy = self._accuracy(tf.concat([inputs, outputs], axis=0))
    parts = self.reward(accuracy[:self.batch_size], accuracy[self.batch_size:],
                        self.cell_cost(inputs), self.cell_cost(outputs))
    self.accuracy_change.assign(parts.accuracy_change)
    self.cost_change.assign(parts.cost_change)
    self._reward.assign(parts.reward)
    self._architectures.assign(outputs)
    self._step_type.assign(tf.fill([self.batch_size], ts.StepType.LAST))
    return self._time_step()
