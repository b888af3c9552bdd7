"""The TF-Agents REINFORCE agent with the reference's settings (the reference code).

Adam(lr 3e-4, betas (0.5, 0.999)), weight decay 5e-4 (as L2 losses in the
networks), entropy regularisation 0.003, one-step episodes (gamma is irrelevant).
The baseline is chosen by gin:
- 'moving_average' (default): b <- decay * b + (1 - decay) * mean reward, and the
  agent sees the advantage r - b as its reward. The reference averaged the
  advantage instead of the reward, which drives b to about half the mean reward;
  this project averages the reward (the reference code).
- 'value_network': TF-Agents' own baseline, a GCN value network (advantage loss).
- 'none': raw rewards.
Returns are never normalised by TF-Agents (the reference does not).
"""

import gin
import tensorflow as tf
from tf_agents.agents.reinforce import reinforce_agent
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory

from nat_tf.errors import UsageError
from nat_tf.errors import check_positive
from nat_tf.rl import networks

BASELINES = ("moving_average", "value_network", "none")


class MovingAverageBaseline(tf.Module):
  """An exponential moving average of the mean reward, checkpointed with the agent."""

  def __init__(self, decay=0.99):
    super().__init__(name="moving_average_baseline")
    self.decay = decay
    self.value = tf.Variable(0.0, trainable=False, name="baseline")

  def advantage(self, reward):
    """r - b with the current b, then b is updated with this batch's mean reward."""
    advantage = reward - self.value
    self.value.assign(self.decay * self.value + (1.0 - self.decay) * tf.reduce_mean(reward))
    return advantage


@gin.configurable
def make_agent(time_step_spec, action_spec, num_ops, layout, baseline="moving_average",
               learning_rate=3e-4, beta_1=0.5, beta_2=0.999, entropy_regularization=0.003,
               gradient_clipping=None, train_step_counter=None):
  """(ReinforceAgent with a GCN actor, MovingAverageBaseline or None).

  `layout`: the cell space's graph.CellLayout, or a DARTS node count.

  With baseline='value_network' the agent holds a GCN value network instead.
  """
  if baseline not in BASELINES:
    raise UsageError(f"baseline={baseline!r} is not one of {list(BASELINES)}")
  check_positive("make_agent.learning_rate", learning_rate)
  observation_spec = time_step_spec.observation
  actor = networks.GcnActorNetwork(observation_spec, action_spec, num_ops, layout)
  value = (networks.GcnValueNetwork(observation_spec, num_ops, layout)
           if baseline == "value_network" else None)
  agent = reinforce_agent.ReinforceAgent(
      time_step_spec, action_spec, actor_network=actor, value_network=value,
      optimizer=tf.keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2),
      normalize_returns=False, entropy_regularization=entropy_regularization,
      gradient_clipping=gradient_clipping, train_step_counter=train_step_counter)
  agent.initialize()
  return agent, MovingAverageBaseline() if baseline == "moving_average" else None


def one_step_episodes(time_step, action_step, next_time_step, reward):
  """A [B, 2] Trajectory of one-step episodes, as REINFORCE needs full episodes.

  Step 0 carries the action and its reward (FIRST -> LAST); step 1 is the
  boundary LAST -> FIRST that REINFORCE masks out.
  """
  first = trajectory.Trajectory(
      step_type=time_step.step_type, observation=time_step.observation,
      action=action_step.action, policy_info=action_step.info,
      next_step_type=next_time_step.step_type, reward=reward,
      discount=next_time_step.discount)
  boundary = trajectory.Trajectory(
      step_type=next_time_step.step_type, observation=time_step.observation,
      action=action_step.action, policy_info=action_step.info,
      next_step_type=tf.fill(tf.shape(time_step.step_type), ts.StepType.FIRST),
      reward=tf.zeros_like(reward), discount=tf.ones_like(next_time_step.discount))
  return tf.nest.map_structure(lambda a, b: tf.stack([a, b], axis=1), first, boundary)
