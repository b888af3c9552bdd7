"""Where a run is, as checkpointed variables: the position StepLoop resumes from.

A run is epochs of phases; its state holds the epoch, the phase and the step within
it where the next step starts, and each phase's steps taken in all. The search has
two phases (SearchState), training from scratch one (TrainState). Both answer the
same few questions for StepLoop (position, start_phase, count_step, steps_taken,
total_steps) and `status` for status.json; they differ in their variables, whose
names are the checkpoint format of their runs, so each keeps its own.
"""

import tensorflow as tf

# The search's phases in their order within an epoch; SearchState.phase indexes it.
SEARCH_PHASES = ("weights", "policy")


def _counter(name, value=0):
  return tf.Variable(value, dtype=tf.int64, trainable=False, name=name)


class SearchState(tf.Module):
  """A search's position and counts, its latest mean reward and whether it finished.

  `phases`: the search's phase names in their order, SEARCH_PHASES or a part of it (a
  search on a benchmark's table has no weights phase); `phase` indexes them, and each
  phase's steps are counted in its own variable whatever its index."""

  def __init__(self, phases=SEARCH_PHASES):
    super().__init__(name="run_state")
    self.phases = tuple(phases)
    self.epoch = _counter("epoch")
    self.phase = _counter("phase")
    self.step_in_phase = _counter("step_in_phase")
    self.weight_steps = _counter("weight_steps")
    self.policy_steps = _counter("policy_steps")
    self.mean_reward = tf.Variable(float("nan"), trainable=False, name="mean_reward")
    self.finished = tf.Variable(False, trainable=False, name="finished")

  def position(self):
    """(epoch, phase, step within the phase) where the next step starts."""
    return int(self.epoch), int(self.phase), int(self.step_in_phase)

  def start_phase(self, epoch, phase):
    self.epoch.assign(epoch)
    self.phase.assign(phase)
    self.step_in_phase.assign(0)

  def count_step(self, phase):
    self.step_in_phase.assign_add(1)
    self._steps(phase).assign_add(1)

  def steps_taken(self, phase):
    return int(self._steps(phase))

  def _steps(self, phase):
    counters = dict(zip(SEARCH_PHASES, (self.weight_steps, self.policy_steps)))
    return counters[self.phases[phase]]

  @property
  def total_steps(self):
    return int(self.weight_steps) + int(self.policy_steps)

  def status(self):
    """What status.json shows next to each checkpoint."""
    reward = float(self.mean_reward)
    return {"epoch": int(self.epoch), "phase": self.phases[int(self.phase)],
            "step_in_phase": int(self.step_in_phase), "weight_steps": int(self.weight_steps),
            "policy_steps": int(self.policy_steps),
            "latest_mean_reward": None if reward != reward else reward,
            "finished": bool(self.finished)}


class TrainState(tf.Module):
  """A training from scratch's position (epoch, step within it) and steps taken; its one
  phase is always phase 0."""

  def __init__(self):
    super().__init__(name="train_state")
    self.epoch = _counter("epoch")
    self.step_in_epoch = _counter("step_in_epoch")
    self.steps = _counter("steps")

  def position(self):
    """(epoch, phase, step within the phase) where the next step starts."""
    return int(self.epoch), 0, int(self.step_in_epoch)

  def start_phase(self, epoch, phase):  # pylint: disable=unused-argument
    self.epoch.assign(epoch)
    self.step_in_epoch.assign(0)

  def count_step(self, phase):  # pylint: disable=unused-argument
    self.step_in_epoch.assign_add(1)
    self.steps.assign_add(1)

  def steps_taken(self, phase):  # pylint: disable=unused-argument
    return int(self.steps)

  @property
  def total_steps(self):
    return int(self.steps)

  def status(self):
    """What status.json shows next to each checkpoint."""
    return {"epoch": int(self.epoch), "step_in_epoch": int(self.step_in_epoch),
            "steps": int(self.steps)}
