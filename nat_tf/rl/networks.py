"""Spektral GCN actor and value networks over an architecture's cell graphs (the reference code).

Each cell is a graph: the input nodes carry a learned embedding, an intermediate
node the embeddings of the ops on its incoming edges, concatenated in edge order
(zeros where it has fewer edges than the cell space's most: NAS-Bench-201's node 1
has one, node 3 three); a linear projection and two Spektral GCNConv layers give
node states. Every cell of an architecture (DARTS: normal and reduction) goes
through the same encoder. Where nodes are, which edges feed them and how many cells
there are is the cell space's `graph.CellLayout`. The actor turns node states into
one logit vector per edge and masks invalid transitions (the BMSoftmax of NAT++,
also used for NAT's masks).

Two choices are gin switches:
- `adjacency`: 'reference' (default, the official code's input) feeds the raw
  in-edge matrix (row = target, no self-loops): a node does not see its own input
  ops, but the edge readout sees each edge's op anyway; 'gcn' feeds Spektral the
  standard GCN filter of the undirected cell graph with self-loops. The default is
  the one with which the quickstart policies learned to cut (BUILD_NOTES.md,
  "Learning on digits (issue 6)", has the runs).
- `readout`: 'edge' (default) scores edge f -> t from the states of f and t and the
  edge's own op; 'reference' reshapes the rows of the intermediate nodes.
"""

import gin
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from spektral.layers import GCNConv
from tf_agents.networks import network
from tf_agents.networks import utils as network_utils
from tf_agents.specs import distribution_spec
from tf_agents.specs import tensor_spec
from tf_agents.utils import nest_utils

from nat_tf.errors import UsageError
from nat_tf.space import graph

ADJACENCY_FORMS = ("gcn", "reference")
READOUTS = ("edge", "reference")


def preprocess_adjacency(adjacency, form):
  """The matrix the GCN multiplies by, from the in-edge adjacency [..., n, n]."""
  if form == "reference":
    return adjacency
  n = adjacency.shape[-1]
  undirected = adjacency + tf.linalg.matrix_transpose(adjacency) + tf.eye(n)
  inv_sqrt_degree = tf.math.rsqrt(tf.reduce_sum(undirected, axis=-1))
  return inv_sqrt_degree[..., :, None] * undirected * inv_sqrt_degree[..., None, :]


def _check_choice(name, value, choices):
  if value not in choices:
    raise UsageError(f"{name}={value!r} is not one of {list(choices)}")


@gin.configurable
class CellEncoder(tf.keras.layers.Layer):
  """Node states [M, nodes, hidden] and op embeddings [M, E, edge_hidden] of M cells."""

  def __init__(self, num_ops, layout, edge_hidden=100, features=1024, hidden=100,
               adjacency="reference", weight_decay=5e-4, name="cell_encoder"):
    """`layout`: the cell space's graph.CellLayout, or a DARTS node count."""
    super().__init__(name=name)
    _check_choice("adjacency", adjacency, ADJACENCY_FORMS)
    self.layout = graph.layout_of(layout)
    self.num_nodes = self.layout.num_nodes
    # Edge e of the padded [E + 1] embeddings feeds each node slot; index E is the zero pad.
    node_edges = self.layout.node_edges()
    self._node_edges = tf.constant(np.where(node_edges < 0, self.layout.num_edges, node_edges))
    self.node_width = self.layout.max_in_degree * edge_hidden
    self.adjacency_form = adjacency
    self.edge_hidden = edge_hidden
    # PyTorch's Adam weight_decay=wd adds wd*w to the gradient: an L2 loss of wd/2.
    self.regularizer = tf.keras.regularizers.l2(weight_decay / 2) if weight_decay else None
    self.op_embedding = tf.keras.layers.Embedding(num_ops, edge_hidden,
                                                  embeddings_regularizer=self.regularizer)
    self.input_embedding = self.add_weight("input_nodes",
                                           (self.layout.num_inputs, self.node_width),
                                           initializer="uniform", regularizer=self.regularizer)
    self.project = tf.keras.layers.Dense(features, kernel_regularizer=self.regularizer,
                                         bias_regularizer=self.regularizer)
    self.gcn1 = GCNConv(hidden, activation="relu", kernel_regularizer=self.regularizer,
                        bias_regularizer=self.regularizer)
    self.gcn2 = GCNConv(hidden, kernel_regularizer=self.regularizer,
                        bias_regularizer=self.regularizer)

  def call(self, op_ids, adjacency):
    op_embeddings = self.op_embedding(op_ids)
    cells = tf.shape(op_ids)[0]
    padded = tf.pad(op_embeddings, [[0, 0], [0, 1], [0, 0]])
    intermediate = tf.reshape(tf.gather(padded, self._node_edges, axis=1),
                              [cells, self.num_nodes, self.node_width])
    inputs = tf.broadcast_to(self.input_embedding,
                             [cells, self.layout.num_inputs, self.node_width])
    features = self.project(tf.concat([inputs, intermediate], axis=1))
    a = preprocess_adjacency(adjacency, self.adjacency_form)
    states = self.gcn2([self.gcn1([features, a]), a])
    return states, op_embeddings


def _flatten_cells(observation):
  """[M, cells, ...] observation -> [M * cells, ...] per-cell tensors, plus each cell's index
  in its architecture [M * cells] (DARTS: 0 normal, 1 reduction)."""
  flat = {key: tf.reshape(value, tf.concat([[-1], tf.shape(value)[2:]], 0))
          for key, value in observation.items()}
  op_ids = observation["op_ids"]
  flags = tf.tile(tf.cast(tf.range(tf.shape(op_ids)[1]), tf.float32), [tf.shape(op_ids)[0]])
  return flat, flags


def _squash(observation, spec):
  """Flatten any outer dims ([B] or [B, T]) into one; returns the squash to undo it."""
  squash = network_utils.BatchSquash(nest_utils.get_outer_rank(observation, spec))
  return squash, tf.nest.map_structure(squash.flatten, observation)


def _assert_every_edge_has_an_action(mask):
  """An edge whose mask allows no action would still get one (all its logits equal the
  floor), so a caller's broken mask would pass unnoticed: fail instead."""
  return tf.debugging.assert_equal(
      tf.reduce_all(tf.reduce_any(mask, axis=-1)), True,
      message="the observation's action mask allows no action on some edge; every edge needs "
              "at least one valid action (build the mask with the run's ArchitectureEditor)")


@gin.configurable
class GcnActorNetwork(network.DistributionNetwork):
  """Per-edge categorical over the action space, masked to valid transitions."""

  def __init__(self, observation_spec, action_spec, num_ops, layout, readout="edge",
               name="GcnActorNetwork"):
    """`layout`: the cell space's graph.CellLayout, or a DARTS node count."""
    _check_choice("readout", readout, READOUTS)
    layout = graph.layout_of(layout)
    if readout == "reference" and layout.targets != graph.darts_layout(layout.num_nodes).targets:
      raise UsageError(f"readout='reference' reads two edges per node, which the {layout.name} "
                       "cell space does not have; use GcnActorNetwork.readout = 'edge'")
    num_actions = int(action_spec.maximum) - int(action_spec.minimum) + 1
    output_spec = distribution_spec.DistributionSpec(
        tfp.distributions.Categorical,
        {"logits": tensor_spec.TensorSpec(action_spec.shape + (num_actions,), tf.float32)},
        sample_spec=action_spec, dtype=action_spec.dtype)
    super().__init__(input_tensor_spec=observation_spec, state_spec=(), output_spec=output_spec,
                     name=name)
    self.num_actions = num_actions
    self.layout = layout
    self.readout = readout
    self._check_masks = True
    self.encoder = CellEncoder(num_ops, layout)
    regularizer = self.encoder.regularizer
    small = tf.keras.initializers.VarianceScaling(0.1)
    if readout == "edge":
      self.edge_hidden = tf.keras.layers.Dense(self.encoder.edge_hidden, activation="relu",
                                               kernel_regularizer=regularizer,
                                               bias_regularizer=regularizer)
      self.logits = tf.keras.layers.Dense(num_actions, kernel_initializer=small,
                                          kernel_regularizer=regularizer,
                                          bias_regularizer=regularizer)
    else:
      self.logits = tf.keras.layers.Dense(2 * num_actions, kernel_initializer=small,
                                          kernel_regularizer=regularizer,
                                          bias_regularizer=regularizer)

  def call(self, observation, step_type=None, network_state=(), training=False):
    del step_type  # one-step episodes: the observation is the whole state
    squash, observation = _squash(observation, self.input_tensor_spec)
    cells, reduce_flag = _flatten_cells(observation)
    states, op_embeddings = self.encoder(cells["op_ids"], cells["adjacency"])
    if self.readout == "edge":
      logits = self._edge_logits(states, op_embeddings, cells["sources"], reduce_flag)
    else:
      logits = tf.reshape(self.logits(states[:, self.layout.num_inputs:]),
                          [-1, self.layout.num_edges, self.num_actions])
    logits = tf.reshape(logits, tf.shape(observation["mask"]))
    checks = [_assert_every_edge_has_an_action(observation["mask"])] if self._check_masks else []
    with tf.control_dependencies(checks):
      logits = tf.where(observation["mask"], logits, logits.dtype.min)
    return self.output_spec.build_distribution(logits=squash.unflatten(logits)), network_state

  def create_variables(self, input_tensor_spec=None, **kwargs):
    """TF-Agents builds a network by calling it on a random observation, whose random mask
    may leave an edge without an action: the mask check covers every call but that one."""
    self._check_masks = False
    try:
      return super().create_variables(input_tensor_spec, **kwargs)
    finally:
      self._check_masks = True

  def _edge_logits(self, states, op_embeddings, sources, reduce_flag):
    targets = tf.constant(self.layout.targets, tf.int32)
    source_states = tf.gather(states, sources, batch_dims=1)
    target_states = tf.gather(states, targets, axis=1)
    edges = tf.shape(sources)[1]
    flags = tf.tile(reduce_flag[:, None, None], [1, edges, 1])
    features = tf.concat([source_states, target_states, op_embeddings, flags], axis=-1)
    return self.logits(self.edge_hidden(features))


@gin.configurable
class GcnValueNetwork(network.Network):
  """State value of an input architecture: mean node state of each cell -> linear."""

  def __init__(self, observation_spec, num_ops, layout, name="GcnValueNetwork"):
    super().__init__(input_tensor_spec=observation_spec, state_spec=(), name=name)
    self.encoder = CellEncoder(num_ops, layout)
    self.value = tf.keras.layers.Dense(1, kernel_regularizer=self.encoder.regularizer)

  def call(self, observation, step_type=None, network_state=(), training=False):
    del step_type
    squash, observation = _squash(observation, self.input_tensor_spec)
    cells, _ = _flatten_cells(observation)
    states, _ = self.encoder(cells["op_ids"], cells["adjacency"])
    cells = self.encoder.layout.num_cells
    pooled = tf.reshape(tf.reduce_mean(states, axis=1), [-1, cells * states.shape[-1]])
    return squash.unflatten(tf.squeeze(self.value(pooled), -1)), network_state
