"""One REINFORCE step: observe B input architectures, transform them, learn from the reward.

The step is one traced function of the epoch's minibatch iterator: reset the
environment (B input cells), sample the transformation from the collect policy,
step the environment (scores inputs and outputs on one minibatch), turn rewards
into advantages with the chosen baseline and train the agent on one-step
episodes. A non-finite reward skips the update.

TF-Agents' REINFORCE agent writes its own `Losses/*` summaries at every update, at
its train_step_counter: an axis of policy updates that no other summary of a run
uses. They are switched off here; the step returns the losses instead (`loss` and
`loss/<part>`), and the run writes them with everything else at its global step.
"""

import tensorflow as tf
from tf_agents.agents.reinforce import reinforce_agent

from nat_tf.rl import agent as agent_lib

# The total, then each part of REINFORCE's loss (policy gradient, entropy, regularisation).
LOSSES = ("loss", *(f"loss/{name.removesuffix('_loss')}"
                    for name in reinforce_agent.ReinforceAgentLossInfo._fields))


class PolicyTrainer(tf.Module):
  """Couples the environment, the agent and the moving-average baseline (if used)."""

  def __init__(self, environment, agent, baseline=None):
    super().__init__(name="policy_trainer")
    self.environment = environment
    self.agent = agent
    self.baseline = baseline
    self.step = tf.function(self._step, autograph=False)

  def _step(self, iterator):
    env = self.environment
    env.use_minibatches(iterator)
    time_step = env.reset()
    action_step = self.agent.collect_policy.action(time_step)
    next_time_step = env.step(action_step.action)
    reward = next_time_step.reward
    finite = tf.reduce_all(tf.math.is_finite(reward))
    entropy = tf.reduce_mean(tf.reduce_sum(
        self.agent.collect_policy.distribution(time_step).action.entropy(), axis=[-2, -1]))

    def train():
      advantage = self.baseline.advantage(reward) if self.baseline else reward
      experience = agent_lib.one_step_episodes(time_step, action_step, next_time_step, advantage)
      with tf.summary.record_if(False):
        loss_info = self.agent.train(experience)
      return {name: tf.cast(value, tf.float32)
              for name, value in zip(LOSSES, (loss_info.loss, *loss_info.extra))}

    losses = tf.cond(finite, train, lambda: {name: tf.constant(float("nan")) for name in LOSSES})
    actions = action_step.action
    return {
        "reward_mean": tf.reduce_mean(reward), "reward_std": tf.math.reduce_std(reward),
        "accuracy_change": tf.reduce_mean(env.accuracy_change),
        "cost_change": tf.reduce_mean(env.cost_change), "entropy": entropy, **losses,
        "baseline": self.baseline.value if self.baseline else tf.constant(0.0),
        "finite": finite,
        "actions": tf.math.bincount(tf.reshape(actions, [-1]), minlength=env.action_spec().maximum
                                    + 1, dtype=tf.float32) / tf.cast(tf.size(actions), tf.float32),
    }
