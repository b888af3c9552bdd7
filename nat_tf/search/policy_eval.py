"""How well a trained transformer does, measured on cells and images it never trained on.

The training reward is one noisy minibatch per step, so it cannot tell whether a
policy learned anything. Here N random input cells (default 200), drawn by their
own fixed-seed generator (never the training one), are transformed by each policy
and scored with the supernet on the whole held-out split. Per policy: the mean and
spread of the accuracy change, the mean relative change of the cells' op cost
(multiply-adds and parameters, from the table the reward uses), the mean reward,
and the share of edges kept, turned into a skip, removed, or changed at all.

The policies compared:
- greedy: the learned policy's most likely action per edge (what derivation uses);
- sampling: the learned collect policy, one sample per cell;
- uniform: every valid action equally likely (random search of the space);
- keep: changes nothing (accuracy change 0 by construction: a sanity check);
- placement: the greedy policy's own changes moved to random edges of the same
  cells (`nat_tf.search.placement`): greedy beating it means the policy learned
  WHERE to cut, not only how much.
"""

import dataclasses

import gin
import numpy as np
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from nat_tf.nn import architecture as arch_lib
from nat_tf.rl import control_policies
from nat_tf.rl import reward as reward_lib
from nat_tf.search import placement
from nat_tf.space import cost

CELLS_SEED = 2_019_000_001  # held-out cells; a run draws its inputs from SearchSetup.seed + 1
POLICIES = ("greedy", "sampling", "uniform", "keep", "placement")


@dataclasses.dataclass
class PolicyScore:
  """Per input cell [N]: accuracy change, relative cost changes, reward; per edge
  [N, 2, E]: whether it changed, became a skip, became null."""

  accuracy_change: np.ndarray
  madds_change: np.ndarray
  params_change: np.ndarray
  reward: np.ndarray
  changed: np.ndarray
  skipped: np.ndarray
  nulled: np.ndarray

  def summary(self):
    """Means (and the accuracy change's spread over cells) as plain floats."""
    return {
        "accuracy_change": float(np.mean(self.accuracy_change)),
        "accuracy_change_std": float(np.std(self.accuracy_change)),
        "madds_change": float(np.mean(self.madds_change)),
        "params_change": float(np.mean(self.params_change)),
        "reward": float(np.mean(self.reward)),
        "kept": float(np.mean(~self.changed)),
        "skipped": float(np.mean(self.skipped)),
        "nulled": float(np.mean(self.nulled)),
        "changed": float(np.mean(self.changed)),
    }


@gin.configurable(denylist=["search"])
class PolicyEvaluator:
  """Scores transformations of `num_cells` fixed random input cells on the held-out split."""

  def __init__(self, search, num_cells=200, cells_seed=CELLS_SEED, batch_size=256):
    """`search`: a search setup (SearchSetup, GroundTruthSetup), which says where the
    input cells come from (`evaluation_inputs`) and what scores them
    (`held_out_scorer`); `batch_size`: held-out images per supernet call
    (holdout.HoldoutScorer)."""
    self.search = search
    self.op_list = search.action_space.op_list
    self.inputs = search.evaluation_inputs(num_cells, cells_seed)
    self.time_step = ts.restart(search.editor.observe(self.inputs), self.inputs.shape[0])
    self.holdout = search.held_out_scorer(batch_size)
    self._costs = {metric: search.environment.make_cell_cost(metric)
                   for metric in cost.COST_METRICS}

  def score(self, actions):
    """{name: PolicyScore} of {name: actions [N, 2, E] on the input cells}; inputs and
    all outputs are scored in one pass."""
    outputs = {name: self.search.editor.apply(self.inputs, a) for name, a in actions.items()}
    accuracy = self.holdout.accuracy(tf.concat([self.inputs, *outputs.values()], axis=0))
    accuracy = accuracy.reshape(len(outputs) + 1, -1)
    return {name: self._policy_score(out, accuracy[0], acc)
            for (name, out), acc in zip(outputs.items(), accuracy[1:])}

  def _policy_score(self, outputs, accuracy_in, accuracy_out):
    # The training reward (its metric and weight), here on the held-out split.
    reward = self.search.environment.reward
    costs = {metric: (cell_cost(self.inputs), cell_cost(outputs))
             for metric, cell_cost in self._costs.items()}
    parts = reward(accuracy_in, accuracy_out, *costs[reward.cost_metric])
    changes = {metric: reward_lib.relative_change(*pair).numpy() for metric, pair in costs.items()}
    old_ops = self.inputs[..., arch_lib.OP_IDS, :].numpy()
    new_ops = outputs[..., arch_lib.OP_IDS, :].numpy()
    changed = new_ops != old_ops
    return PolicyScore(parts.accuracy_change.numpy(), changes["madds"], changes["params"],
                       parts.reward.numpy(), changed,
                       changed & (new_ops == self.op_list.skip_id),
                       changed & (new_ops == self.op_list.null_id))

  def actions(self, policy, seed):
    """A policy's actions on the input cells; sampling uses a stateless seed, so repeats."""
    return policy.distribution(self.time_step).action.sample(seed=tf.constant([seed, 0])).numpy()

  def evaluate(self, seed=0):
    """{policy name: PolicyScore} for the policies of POLICIES, plus the number of
    the greedy policy's changes that the placement control found no edge for."""
    agent = self.search.agent
    spec = ts.time_step_spec(self.search.editor.observe.spec)
    action_spec = self.search.editor.action_spec
    policies = {
        "greedy": agent.policy, "sampling": agent.collect_policy,
        "uniform": control_policies.UniformValidPolicy(spec, action_spec),
        "keep": control_policies.KeepPolicy(spec, action_spec, self.search.action_space),
    }
    actions = {name: self.actions(policy, seed) for name, policy in policies.items()}
    observation = tf.nest.map_structure(np.asarray, self.time_step.observation)
    actions["placement"], unplaced = placement.placement_actions(
        actions["greedy"], observation, self.search.action_space, np.random.default_rng(seed))
    return self.score({name: actions[name] for name in POLICIES}), unplaced

