"""One REINFORCE step: observe B input architectures, transform them, learn from the reward.

The step is one traced function of the epoch's minibatch iterator: reset the
environment (B input cells), sample the transformation from the collect policy,
step the environment (scores inputs and outputs on one minibatch), turn rewards
into advantages with the chosen baseline and train the agent on one-step
episodes. A non-finite reward skips the update.
"""

import tensorflow as tf

from nat_tf.rl import agent as agent_lib


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
      return self.agent.train(experience).loss

    loss = tf.cond(finite, train, lambda: tf.constant(float("nan")))
    actions = action_step.action
    return {
        "reward_mean": tf.reduce_mean(reward), "reward_std": tf.math.reduce_std(reward),
        "accuracy_change": tf.reduce_mean(env.accuracy_change),
        "cost_change": tf.reduce_mean(env.cost_change), "entropy": entropy, "loss": loss,
        "baseline": self.baseline.value if self.baseline else tf.constant(0.0),
        "finite": finite,
        "actions": tf.math.bincount(tf.reshape(actions, [-1]), minlength=env.action_spec().maximum
                                    + 1, dtype=tf.float32) / tf.cast(tf.size(actions), tf.float32),
    }
