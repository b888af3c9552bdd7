"""Policies to compare the learned one against, as TF-Agents policies.

- UniformValidPolicy: every valid transition of every edge equally likely (the
  paper's random-search space, and the 'uniformly random valid policy' control);
- KeepPolicy: changes nothing (the reward-0 reference that a cost-free reward makes
  the safe optimum on small data).
Both read the valid-action mask from the observation, like the learned actor.
"""

import tensorflow as tf
import tensorflow_probability as tfp
from tf_agents.policies import tf_policy
from tf_agents.trajectories import policy_step


class UniformValidPolicy(tf_policy.TFPolicy):
  """Uniform over the valid actions of each edge."""

  def __init__(self, time_step_spec, action_spec):
    super().__init__(time_step_spec, action_spec)

  def _distribution(self, time_step, policy_state):
    mask = time_step.observation["mask"]
    logits = tf.where(mask, 0.0, tf.float32.min)
    return policy_step.PolicyStep(tfp.distributions.Categorical(logits=logits,
                                                                dtype=self.action_spec.dtype),
                                  policy_state)


class KeepPolicy(tf_policy.TFPolicy):
  """The action that leaves each edge's op unchanged."""

  def __init__(self, time_step_spec, action_spec, action_space):
    super().__init__(time_step_spec, action_spec)
    self._keep = tf.constant(action_space.keep_actions)

  def _distribution(self, time_step, policy_state):
    keep = tf.gather(self._keep, time_step.observation["op_ids"])
    return policy_step.PolicyStep(tfp.distributions.Deterministic(keep), policy_state)
