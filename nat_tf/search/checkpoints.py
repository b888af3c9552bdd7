"""Where a run is, saved so that a restarted run resumes exactly there.

RunState holds the position (epoch, phase, step within the phase) and totals as
variables, checkpointed together with the supernet, the agent, the optimisers and
the random generators. Data positions need no saving: an epoch's batch order is a
function of (seed, epoch) (nat_tf.data.pipeline), so a resumed phase rebuilds its
epoch and skips the steps already taken.

TensorFlow writes a checkpoint's files first and then replaces the `checkpoint`
index atomically, so an interruption mid-save leaves the previous checkpoint as
the latest one. status.json is replaced atomically after every save.
"""

import os
import time

import tensorflow as tf

from nat_tf import atomic

WEIGHTS, POLICY = 0, 1
STATUS_FILE = "status.json"


class RunState(tf.Module):
  """Counters of a search run; `position` is where the next step starts."""

  def __init__(self):
    super().__init__(name="run_state")
    self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
    self.phase = tf.Variable(WEIGHTS, dtype=tf.int64, trainable=False, name="phase")
    self.step_in_phase = tf.Variable(0, dtype=tf.int64, trainable=False, name="step_in_phase")
    self.weight_steps = tf.Variable(0, dtype=tf.int64, trainable=False, name="weight_steps")
    self.policy_steps = tf.Variable(0, dtype=tf.int64, trainable=False, name="policy_steps")
    self.mean_reward = tf.Variable(float("nan"), trainable=False, name="mean_reward")
    self.finished = tf.Variable(False, trainable=False, name="finished")

  @property
  def total_steps(self):
    return int(self.weight_steps) + int(self.policy_steps)

  def start_phase(self, epoch, phase):
    self.epoch.assign(epoch)
    self.phase.assign(phase)
    self.step_in_phase.assign(0)

  def status(self):
    reward = float(self.mean_reward)
    return {"epoch": int(self.epoch), "phase": ("weights", "policy")[int(self.phase)],
            "step_in_phase": int(self.step_in_phase), "weight_steps": int(self.weight_steps),
            "policy_steps": int(self.policy_steps),
            "latest_mean_reward": None if reward != reward else reward,
            "finished": bool(self.finished)}


class Checkpointer:
  """Saves and restores a run: the trackables given, plus its RunState."""

  def __init__(self, root_dir, state, max_to_keep=3, chief=True, **trackables):
    self.root_dir = root_dir
    self.state = state
    self.chief = chief
    directory = os.path.join(root_dir, "checkpoints")
    if not chief:  # other workers of a multi-worker run must save too, but not here
      directory = os.path.join(root_dir, f".worker_checkpoints_{os.getpid()}")
    self.checkpoint = tf.train.Checkpoint(state=state, **trackables)
    self.manager = tf.train.CheckpointManager(self.checkpoint, directory, max_to_keep)

  def restore(self, for_inference=False):
    """Restore the latest checkpoint if there is one; returns its path or None.

    Optimizer slots are restored when the optimizer first creates them; with
    `for_inference` they never will be, and that is expected.
    """
    path = self.manager.latest_checkpoint
    if path:
      status = self.checkpoint.restore(path).assert_existing_objects_matched()
      if for_inference:
        status.expect_partial()
    return path

  def save(self):
    """Write a checkpoint numbered by total steps, then replace status.json."""
    path = self.manager.save(checkpoint_number=self.state.total_steps)
    if self.chief:
      status = dict(self.state.status(), checkpoint=os.path.basename(path), time=time.time())
      atomic.write_json(os.path.join(self.root_dir, STATUS_FILE), status)
    return path
