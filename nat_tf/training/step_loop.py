"""The one loop of training steps, shared by the search and training from scratch.

A run is epochs of phases: the search's weights phase and then (after its warm-up)
its policy phase, train_final's one phase of training steps. What a phase trains,
on which data and what it reports is its Phase's; the loop does what every run does
alike:

- resumes at the state's position (position.py: epoch, phase, step within it), so a
  resumed run neither repeats nor skips a step;
- counts each step in the state and in nat_tf.progress, for log lines that say the
  time left (every `log_every` run steps and at the last one) and a speed summary;
- writes a phase's summaries every `summary_every` steps of that phase, at the run's
  global step (all phases' steps together: one step axis in TensorBoard);
- saves a checkpoint every `checkpoint_every` run steps and at each epoch's end;
- stops with NonFiniteError after `max_nonfinite` consecutive non-finite steps (the
  trainers skip them, so the weights are those of the last good step), naming the
  step, the phase and the learning rate to lower;
- after the first step of each phase in this process, hands the memory its tracing
  freed back to the system (freed_memory.py), so it does not add to later peaks;
- defers SIGINT and SIGTERM while it runs (nat_tf.interrupts) and after one saves the
  steps taken since the last checkpoint and stops with errors.Interrupted saying how to
  resume: a stop never lands in the middle of a step or a save.

A loop of one phase names no phase in its log lines and speed summary: there is only
one kind of step to tell apart.
"""

import dataclasses
import os
from typing import Callable

from absl import logging
import tensorflow as tf

from nat_tf import interrupts
from nat_tf import progress as progress_lib
from nat_tf.errors import Interrupted
from nat_tf.errors import NonFiniteError
from nat_tf.errors import check_integer
from nat_tf.training import freed_memory


@dataclasses.dataclass(frozen=True)
class Phase:
  """One kind of step, taken `steps` times in every epoch from `first_epoch` on.

  start(epoch, skip): sets the epoch's schedules (learning rate, drop path) and returns
    the iterator over the epoch's batches, after the `skip` that were taken already.
  step(batches): one step on the iterator; its metrics hold a boolean 'finite'.
  summaries(metrics, step): writes the phase's summaries at the run's global `step`,
    after every `summary_every` steps of the phase.
  describe(metrics): the metrics as the progress lines show them (see `shown`).
  learning_rate: the gin binding to lower when the phase's steps stop being finite.
  """
  name: str
  steps: int
  start: Callable
  step: Callable
  summaries: Callable
  summary_every: int
  describe: Callable
  learning_rate: str
  first_epoch: int = 0


def check_counts(configurable, counts, intervals):
  """What a run's configurable (`train_eval`, `train_final`) gives the loop, checked before
  anything is built: `counts` (name: value, e.g. epochs) must be integers >= 0 and
  `intervals` (e.g. checkpoint_every, a batch size) integers >= 1, as an interval of 0
  would divide by zero; the error names the binding."""
  for values, minimum in ((counts, 0), (intervals, 1)):
    for name, value in values.items():
      check_integer(f"{configurable}.{name}", value, minimum)


def shown(metrics, keys):
  """'key=value ...' of `metrics`' `keys`, four decimals: a Phase's `describe`."""
  return " ".join(f"{key}={float(metrics[key]):.4f}" for key in keys)


class StepLoop:
  """Runs `phases` (in their order, within each epoch) for `epochs` epochs from where the
  checkpointer's state is; `on_save()` is called after each checkpoint."""

  def __init__(self, checkpointer, phases, epochs, *, log_every, checkpoint_every,
               max_nonfinite, on_save=None):
    self.checkpointer, self.state = checkpointer, checkpointer.state
    self.phases, self.epochs = tuple(phases), epochs
    self.named = len(self.phases) > 1  # whether log lines and speed summaries name the phase
    self.log_every, self.checkpoint_every = log_every, checkpoint_every
    self.max_nonfinite = max_nonfinite
    self.on_save = on_save
    self.progress = progress_lib.Progress(
        {phase.name: (epochs - phase.first_epoch) * phase.steps for phase in self.phases},
        {phase.name: self.state.steps_taken(number) for number, phase in enumerate(self.phases)})
    self.nonfinite = 0  # consecutive non-finite steps, over phase ends
    self.saved_steps = self.state.total_steps  # restored, or 0 for a new run
    self.traced = set()  # the phases whose step has run (and so been traced) here

  def run(self, finish=None):
    """Every epoch's phases from the state's position on, a checkpoint at each epoch's end;
    then `finish()` (e.g. marking the run finished and saving), still deferring signals."""
    with interrupts.deferred():
      self._epochs()
      if finish:
        finish()

  def _epochs(self):
    state = self.state
    while state.position()[0] < self.epochs:
      epoch, first, _ = state.position()
      for number in range(first, len(self.phases)):
        if number > first:
          state.start_phase(epoch, number)
        if epoch >= self.phases[number].first_epoch:
          self._phase(epoch, number)
      state.start_phase(epoch + 1, 0)
      self.save()

  def _phase(self, epoch, number):
    phase, state = self.phases[number], self.state
    skip = state.position()[2]
    batches = phase.start(epoch, skip)
    for step in range(skip, phase.steps):
      metrics = phase.step(batches)
      if phase.name not in self.traced:
        self.traced.add(phase.name)
        freed_memory.release()
      state.count_step(number)
      self.progress.advance(phase.name)
      self._check_finite(metrics, epoch, phase, step)
      total = state.total_steps
      if state.steps_taken(number) % phase.summary_every == 0:
        phase.summaries(metrics, total)
        self._speed_summary(phase, total)
      if total % self.log_every == 0 or total == self.progress.total:
        self._log(epoch, phase, step, metrics)
      if total % self.checkpoint_every == 0:
        self.save()
      self._stop_if_interrupted()

  def _speed_summary(self, phase, step):
    rate = self.progress.rate(phase.name)
    if rate is not None:
      kind = f"{phase.name}_" if self.named else ""
      tf.summary.scalar(f"speed/{kind}steps_per_second", rate, step=step)

  def _log(self, epoch, phase, step, metrics):
    kind = f"{phase.name} " if self.named else ""
    logging.info("epoch %d/%d %sstep %d/%d %s | %s", epoch + 1, self.epochs, kind, step + 1,
                 phase.steps, phase.describe(metrics), self.progress.line(phase.name))

  def _check_finite(self, metrics, epoch, phase, step):
    if bool(metrics["finite"]):
      self.nonfinite = 0
      return
    self.nonfinite += 1
    logging.warning("non-finite %s step skipped (epoch %d, step %d)", phase.name, epoch, step)
    if self.nonfinite >= self.max_nonfinite:
      latest = self.checkpointer.manager.latest_checkpoint
      advice = f"lower the learning rate, e.g. {phase.learning_rate}"
      saved = (f"its last good checkpoint is {latest} ({advice}, and resume)" if latest
               else f"no checkpoint was written yet ({advice}, and start again)")
      raise NonFiniteError(
          f"{self.nonfinite} consecutive non-finite {phase.name} steps at epoch {epoch}, step "
          f"{step}: the run stopped; {saved}")

  def _stop_if_interrupted(self):
    """After a SIGINT or SIGTERM (interrupts.deferred): save the steps taken since the last
    checkpoint and stop with one line saying how to resume."""
    signum = interrupts.pending()
    if signum is None:
      return
    if self.state.total_steps != self.saved_steps:
      self.save()
    latest = self.checkpointer.manager.latest_checkpoint
    if latest is None:
      raise Interrupted(signum, f"stopped by {interrupts.name(signum)} before the first step "
                        "finished; nothing was saved: run the same command again to start")
    # No flag named: the loop runs in bin/train's --root_dir and in a folder of bin/study's
    # --output_dir alike.
    raise Interrupted(signum, f"stopped by {interrupts.name(signum)} after step "
                      f"{self.state.total_steps}, saved as {os.path.basename(latest)} in "
                      f"{self.checkpointer.root_dir}: run the same command again to resume "
                      "from there")

  def save(self, last=False):
    """A checkpoint, said in the log only at debug level, or (`last`) for the run's last
    one: one line per epoch would drown the progress lines."""
    path = self.checkpointer.save()
    self.saved_steps = self.state.total_steps
    if self.on_save:
      self.on_save()
    log = logging.info if last else logging.debug
    log("checkpoint %s (%s)", os.path.basename(path), self.state.status())
