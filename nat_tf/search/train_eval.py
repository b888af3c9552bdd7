"""The search: supernet weights and transformer policy trained alternately (NAT_SPEC 5).

Per epoch: one pass over the weights split (a random input architecture per step,
SGD), then, after the warm-up epochs, one pass over the policy split (REINFORCE
steps of the transformation MDP). Everything is gin-bound. The run writes
TensorBoard summaries into its own folder (so TensorBoard names the run after it),
every scalar at the run's global step (weight and policy steps together), logs its
progress, checkpoints (with `status.json`) every `checkpoint_every` steps and at each
phase end, resumes from its latest checkpoint without repeating or skipping a step,
and exports the policy at the end.
"""

import os

from absl import logging
import gin
import tensorflow as tf

from nat_tf import atomic
from nat_tf import export
from nat_tf import interrupts
from nat_tf import progress
from nat_tf.errors import Interrupted
from nat_tf.errors import UsageError
from nat_tf.errors import check_integer
from nat_tf.report import diagram
from nat_tf.search import policy_eval
from nat_tf.search import setup as setup_lib
from nat_tf.search import supernet_steps
from nat_tf.search import transformations
from nat_tf.space import catalogue
from nat_tf.space import cost
from nat_tf.space import genotype as genotype_lib
from nat_tf.space import genotype_format
from nat_tf.training import checkpoints
from nat_tf.training import schedule
from nat_tf.training import strategy as strategy_lib


class NonFiniteError(UsageError):
  """Too many consecutive steps with a non-finite loss or reward; the user's fix is a
  lower learning rate, so the programs report it in one line like bad input."""


@gin.configurable(denylist=["root_dir"])
def train_eval(root_dir, epochs=100, warmup_epochs=0, learning_rate_min=0.01,
               checkpoint_every=500, summary_every=20, policy_summary_every=1, log_every=50,
               max_nonfinite=10, target_genotype="DARTS", report_dataset="cifar10",
               evaluate_cells=0):
  """Run (or resume) a search in `root_dir`; returns the target genotype's transformation.

  warmup_epochs: weight-only epochs before policy training starts (0 in the reference).
  learning_rate_min: cosine floor of the weight learning rate (equal to the base rate in
    the reference, i.e. a constant rate).
  summary_every, policy_summary_every: weight steps between supernet summaries, policy
    steps between policy summaries. Policy steps are few and each scores many
    architectures, so a point per update costs nothing and gives a readable curve.
  log_every: steps between progress lines, and one at the last step (a line per phase
    would be hundreds of lines for the small epochs of bundled data).
  target_genotype: catalogue name or file transformed greedily for the cell images and
    the final report (cost under `report_dataset`'s DARTS network).
  evaluate_cells: if > 0, the finished policy is also scored on that many held-out random
    input cells against uniform and placement controls (search/policy_eval.py), into the
    report and `<root_dir>/policy_eval.json`: one target cell cannot show whether the
    policy learned, this can.

  The run's config.gin is written once its checkpoint is restored (checkpoints.resume),
  so a resume whose bindings do not fit leaves it as it was.
  """
  _check_counts(epochs=epochs, warmup_epochs=warmup_epochs, checkpoint_every=checkpoint_every,
                summary_every=summary_every, policy_summary_every=policy_summary_every,
                log_every=log_every, max_nonfinite=max_nonfinite, evaluate_cells=evaluate_cells)
  if not 0 <= warmup_epochs <= epochs:
    raise UsageError(f"warmup_epochs={warmup_epochs} must be in 0..epochs={epochs}")
  target = catalogue.load(target_genotype)  # a bad file fails before the data is read
  setup = setup_lib.SearchSetup()
  transformations.encode(target, setup.transformer)  # fail now, not after training
  chief = strategy_lib.is_chief(setup.strategy)
  checkpointer = checkpoints.Checkpointer(root_dir, setup.state, chief=chief,
                                          **setup.trackables())
  restored = checkpoints.resume(checkpointer, root_dir)
  if restored:
    logging.info("resumed from %s at %s", restored, setup.state.status())
  writer = tf.summary.create_file_writer(root_dir) if chief else tf.summary.create_noop_writer()
  loop = _Loop(setup, checkpointer, epochs, warmup_epochs, learning_rate_min, checkpoint_every,
               (summary_every, policy_summary_every), log_every, max_nonfinite, target)
  with writer.as_default(), interrupts.deferred():
    loop.run()
  result = report(setup, target, report_dataset)
  if evaluate_cells:
    scores, _ = policy_eval.PolicyEvaluator(setup, num_cells=evaluate_cells).evaluate()
    result["held_out"] = {"cells": evaluate_cells,
                          "policies": {name: score.summary() for name, score in scores.items()}}
    if chief:
      atomic.write_json(os.path.join(root_dir, "policy_eval.json"), result["held_out"])
  if chief:
    export.export_policy(setup.agent, setup.transformer, os.path.join(root_dir, "policy"))
  return result


_MINIMUM_COUNTS = {"epochs": 0, "warmup_epochs": 0, "checkpoint_every": 1, "summary_every": 1,
                   "policy_summary_every": 1, "log_every": 1, "max_nonfinite": 1,
                   "evaluate_cells": 0}


def _check_counts(**counts):
  """Step counts and intervals must be integers (an interval of 0 would divide by zero)."""
  for name, value in counts.items():
    check_integer(f"train_eval.{name}", value, _MINIMUM_COUNTS[name])


def report(setup, genotype, dataset):
  """The greedy policy's transformation of `genotype` and the cost before and after."""
  transformed = transformations.transform(setup.agent.policy, setup.transformer, genotype)[0]
  costs = {name: cost.report(g, dataset) for name, g in (("before", genotype),
                                                          ("after", transformed))}
  return {"genotype": genotype, "transformed": transformed, "cost": costs}


class _Loop:
  """The epoch/phase loop over a SearchSetup, with logging, summaries and checkpoints.

  summary_every: (weight steps, policy steps) between summaries, by phase.
  """

  def __init__(self, setup, checkpointer, epochs, warmup_epochs, learning_rate_min,
               checkpoint_every, summary_every, log_every, max_nonfinite, target):
    self.setup, self.checkpointer = setup, checkpointer
    self.state = setup.state
    self.epochs, self.warmup_epochs = epochs, warmup_epochs
    self.learning_rate_min = learning_rate_min
    self.checkpoint_every, self.summary_every, self.log_every = (checkpoint_every, summary_every,
                                                                  log_every)
    self.max_nonfinite = max_nonfinite
    self.target = target
    sizes = setup.splits
    self.steps = {checkpoints.WEIGHTS: sizes.weights_size // setup.batch_size,
                  checkpoints.POLICY: sizes.policy_size // setup.batch_size}
    if not all(self.steps.values()):
      raise UsageError(f"batch_size={setup.batch_size} is larger than a search split "
                       f"({sizes.weights_size} weights / {sizes.policy_size} policy examples); "
                       "lower SearchSetup.batch_size")
    weights, policy = checkpoints.PHASE_NAMES
    self.progress = progress.Progress(
        {weights: epochs * self.steps[checkpoints.WEIGHTS],
         policy: (epochs - warmup_epochs) * self.steps[checkpoints.POLICY]},
        {weights: int(self.state.weight_steps), policy: int(self.state.policy_steps)})
    self.nonfinite = 0
    self.drawn = None  # the transformed target last drawn in this process
    self.saved_steps = self.state.total_steps  # restored, or 0 for a new run

  def run(self):
    state = self.state
    while int(state.epoch) < self.epochs:
      epoch = int(state.epoch)
      if int(state.phase) == checkpoints.WEIGHTS:
        self._phase(epoch, checkpoints.WEIGHTS)
        state.start_phase(epoch, checkpoints.POLICY)
      if epoch >= self.warmup_epochs:
        self._phase(epoch, checkpoints.POLICY)
      state.start_phase(epoch + 1, checkpoints.WEIGHTS)
      self._save()
    state.finished.assign(True)
    self._save()

  def _phase(self, epoch, phase):
    setup, state = self.setup, self.state
    trainer = setup.weight_trainer if phase == checkpoints.WEIGHTS else setup.policy_trainer
    if phase == checkpoints.WEIGHTS:
      rate = schedule.learning_rate(epoch, self.epochs, trainer.base_learning_rate,
                                          self.learning_rate_min)
      trainer.sgd.learning_rate.assign(rate)
    split = setup.splits.weights if phase == checkpoints.WEIGHTS else setup.splits.policy
    iterator = setup.epoch_batches(split, epoch, skip=int(state.step_in_phase), shift=phase)
    for step in range(int(state.step_in_phase), self.steps[phase]):
      metrics = trainer.step(iterator)
      state.step_in_phase.assign_add(1)
      counter = state.weight_steps if phase == checkpoints.WEIGHTS else state.policy_steps
      counter.assign_add(1)
      self.progress.advance(checkpoints.PHASE_NAMES[phase])
      self._check_finite(metrics, epoch, phase, step)
      if phase == checkpoints.POLICY:
        state.mean_reward.assign(metrics["reward_mean"])
      total = state.total_steps
      if int(counter) % self.summary_every[phase] == 0:
        self._summaries(phase, metrics, total)
      if total % self.log_every == 0 or total == self.progress.total:
        self._log(epoch, phase, step, metrics)
      if total % self.checkpoint_every == 0:
        self._save()
      self._stop_if_interrupted()

  def _stop_if_interrupted(self):
    """After a SIGINT or SIGTERM (interrupts.deferred): save the steps taken since the last
    checkpoint and stop with one line saying how to resume."""
    signum = interrupts.pending()
    if signum is None:
      return
    if self.state.total_steps != self.saved_steps:
      self._save()
    latest = self.checkpointer.manager.latest_checkpoint
    if latest is None:
      raise Interrupted(signum, f"stopped by {interrupts.name(signum)} before the first step "
                        "finished; nothing was saved: run the same command again to start")
    raise Interrupted(signum, f"stopped by {interrupts.name(signum)} after step "
                      f"{self.state.total_steps}, saved as {os.path.basename(latest)}: run the "
                      "same command again (same --root_dir) to resume from there")

  def _check_finite(self, metrics, epoch, phase, step):
    if bool(metrics["finite"]):
      self.nonfinite = 0
      return
    self.nonfinite += 1
    name = checkpoints.PHASE_NAMES[phase]
    logging.warning("non-finite %s step skipped (epoch %d, step %d)", name, epoch, step)
    if self.nonfinite >= self.max_nonfinite:
      latest = self.checkpointer.manager.latest_checkpoint
      advice = ("lower the learning rate, e.g. WeightTrainer.learning_rate or "
                "make_agent.learning_rate")
      saved = (f"its last good checkpoint is {latest} ({advice}, and resume)" if latest
               else f"no checkpoint was written yet ({advice}, and start again)")
      raise NonFiniteError(
          f"{self.nonfinite} consecutive non-finite {name} steps at epoch {epoch}, step {step}: "
          f"the run stopped; {saved}")

  def _summaries(self, phase, metrics, step):
    prefix = checkpoints.PHASE_NAMES[phase]
    for key, value in metrics.items():
      if key == "actions":
        for name, share in zip(self.setup.action_space.action_names, value.numpy()):
          tf.summary.scalar(f"policy/actions/{name}", share, step=step)
      elif key != "finite":
        tf.summary.scalar(f"{prefix}/{key}", value, step=step)
    if phase == checkpoints.WEIGHTS:
      tf.summary.scalar("weights/learning_rate", self.setup.weight_trainer.sgd.learning_rate,
                        step=step)
    else:
      optimizer = self.setup.agent._optimizer  # pylint: disable=protected-access
      tf.summary.scalar("policy/learning_rate", optimizer.learning_rate, step=step)
    rate = self.progress.rate(prefix)
    if rate is not None:
      tf.summary.scalar(f"speed/{prefix}_steps_per_second", rate, step=step)

  def _log(self, epoch, phase, step, metrics):
    name = checkpoints.PHASE_NAMES[phase]
    shown = ("loss", "accuracy") if phase == checkpoints.WEIGHTS else (
        "reward_mean", "accuracy_change", "cost_change", "entropy")
    values = " ".join(f"{k}={float(metrics[k]):.4f}" for k in shown)
    logging.info("epoch %d/%d %s step %d/%d %s | %s", epoch + 1, self.epochs, name, step + 1,
                 self.steps[phase], values, self.progress.line(name))

  def _save(self):
    """A checkpoint and the target's drawing; said in the log only at debug level, or for
    the run's last one: one line per epoch would drown the progress lines."""
    path = self.checkpointer.save()
    self.saved_steps = self.state.total_steps
    self._draw_target()
    log = logging.info if bool(self.state.finished) else logging.debug
    log("checkpoint %s (%s)", os.path.basename(path), self.state.status())

  def _draw_target(self):
    """The greedy transformation of the target as an image summary, when it differs from
    the one last drawn: drawing took most of a checkpoint's time on small data sets."""
    transformed = transformations.transform(self.setup.agent.policy, self.setup.transformer,
                                            self.target)[0]
    if transformed == self.drawn:
      return
    self.drawn = transformed
    image = diagram.comparison_image(self.target, transformed)
    tf.summary.image("policy/transformed_target",
                     tf.image.decode_png(diagram.png_bytes(image))[None],
                     step=self.state.total_steps)


def format_report(result):
  """The report as text: the transformed genotype, the changed edges, costs before/after."""
  before, after = result["cost"]["before"], result["cost"]["after"]
  lines = ["transformed genotype:", genotype_format.to_literal(result["transformed"]), ""]
  for name, cell in result["genotype"].cells.items():
    new_cell = result["transformed"].cells[name]
    for edge, new_op in zip(cell.edges, new_cell.ops):
      if edge.op != new_op:
        lines.append(f"  {name} edge from {genotype_lib.node_name(edge.src)} to "
                     f"{genotype_lib.node_name(edge.dst)}: {edge.op} -> {new_op}")
  lines.append(f"cost on {before['dataset']} (C={before['channels']}, L={before['layers']}): "
               f"params {before['params']:,} -> {after['params']:,}, "
               f"multiply-adds {before['madds']:,} -> {after['madds']:,}")
  if "held_out" in result:
    lines += ["", format_held_out(result["held_out"])]
  return "\n".join(lines)


def format_held_out(held_out):
  """One line per policy: edge outcomes, accuracy change, cost change of the cells."""
  lines = [f"on {held_out['cells']} held-out random input cells (accuracy change on the "
           "held-out images, change of the cells' multiply-adds):"]
  for name in ("greedy", "sampling", "uniform", "placement"):
    policy = held_out["policies"][name]
    lines.append(f"  {name:<10} kept {policy['kept']:.2f} skip {policy['skipped']:.2f} "
                 f"null {policy['nulled']:.2f}  accuracy {policy['accuracy_change']:+.3f}  "
                 f"multiply-adds {policy['madds_change']:+.1%}")
  lines.append("  (uniform: every valid action equally likely; placement: greedy's own "
               "changes on random edges)")
  return "\n".join(lines)
