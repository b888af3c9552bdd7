"""The search: supernet weights and transformer policy trained alternately (the reference code).

Per epoch: one pass over the weights split (a random input architecture per step,
SGD), then, after the warm-up epochs, one pass over the policy split (REINFORCE
steps of the transformation MDP). Everything is gin-bound. The two phases run in
training/step_loop, which logs the progress, writes the summaries (into the run's
own folder, so TensorBoard names the run after it; every scalar at the run's global
step, weight and policy steps together), checkpoints (with `status.json`) every
`checkpoint_every` steps and at each epoch's end, and resumes from the latest
checkpoint without repeating or skipping a step. Here: what the phases are, the
target's drawing at each checkpoint, and at the end the report and the policy's
export.
"""

import os

from absl import logging
import gin
import tensorflow as tf

from nat_tf import atomic
from nat_tf import export
from nat_tf import run_config
from nat_tf.errors import UsageError
from nat_tf.report import diagram
from nat_tf.search import policy_eval
from nat_tf.search import search_setup
from nat_tf.search import transformations
from nat_tf.space import catalogue
from nat_tf.space import cost
from nat_tf.space import genotype as genotype_lib
from nat_tf.space import genotype_format
from nat_tf.training import checkpoints
from nat_tf.training import position
from nat_tf.training import schedule
from nat_tf.training import step_loop
from nat_tf.training import strategy as strategy_lib


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
  step_loop.check_counts(
      "train_eval", dict(epochs=epochs, warmup_epochs=warmup_epochs, evaluate_cells=evaluate_cells),
      dict(checkpoint_every=checkpoint_every, summary_every=summary_every,
           policy_summary_every=policy_summary_every, log_every=log_every,
           max_nonfinite=max_nonfinite))
  if not 0 <= warmup_epochs <= epochs:
    raise UsageError(f"warmup_epochs={warmup_epochs} must be in 0..epochs={epochs}")
  target = catalogue.load(target_genotype)  # a bad file fails before the data is read
  setup = search_setup.SearchSetup()
  try:
    transformations.encode(target, setup.editor)  # fail now, not after training
  except UsageError as error:
    if os.path.isfile(os.path.join(root_dir, run_config.CONFIG)):  # a resume: say what changed
      raise UsageError(f"{run_config.other_settings(root_dir)} (with them: {error})") from None
    raise
  chief = strategy_lib.is_chief(setup.strategy)
  phases = _phases(setup, epochs, warmup_epochs, learning_rate_min, summary_every,
                   policy_summary_every)
  run_phases(root_dir, setup, phases, epochs, chief=chief, log_every=log_every,
             checkpoint_every=checkpoint_every, max_nonfinite=max_nonfinite,
             on_save=_TargetDrawing(setup, target))
  result = report(setup, target, report_dataset)
  evaluate_and_export(root_dir, setup, result, evaluate_cells, chief)
  return result


def run_phases(root_dir, setup, phases, epochs, *, chief, log_every, checkpoint_every,
               max_nonfinite, on_save=None):
  """A search's step loop in `root_dir`, from its latest checkpoint to the end: the part of a
  run every search shares (the supernet's here, a benchmark table's in ground_truth.py),
  whatever its phases are. `setup` holds `state` and `trackables()`."""
  checkpointer = checkpoints.Checkpointer(root_dir, setup.state, chief=chief,
                                          **setup.trackables())
  restored = checkpoints.resume(checkpointer, root_dir)
  if restored:
    logging.info("resumed from %s at %s", restored, setup.state.status())
  writer = tf.summary.create_file_writer(root_dir) if chief else tf.summary.create_noop_writer()
  loop = step_loop.StepLoop(checkpointer, phases, epochs, log_every=log_every,
                            checkpoint_every=checkpoint_every, max_nonfinite=max_nonfinite,
                            on_save=on_save)
  def finish():
    setup.state.finished.assign(True)
    loop.save(last=True)

  with writer.as_default():
    loop.run(finish)


def evaluate_and_export(root_dir, setup, result, evaluate_cells, chief):
  """After the loop: the held-out evaluation of `evaluate_cells` input cells (if > 0) into
  `result` and policy_eval.json, and the policy's export."""
  if evaluate_cells:
    scores, _ = policy_eval.PolicyEvaluator(setup, num_cells=evaluate_cells).evaluate()
    result["held_out"] = {"cells": scores["greedy"].reward.shape[0],
                          "policies": {name: score.summary() for name, score in scores.items()}}
    if chief:
      atomic.write_json(os.path.join(root_dir, "policy_eval.json"), result["held_out"])
  if chief:
    export.export_policy(setup.agent, setup.editor, os.path.join(root_dir, "policy"))


def report(setup, genotype, dataset):
  """The greedy policy's transformation of `genotype` and the cost before and after."""
  transformed = transformations.transform(setup.agent.policy, setup.editor, genotype)[0]
  costs = {name: cost.report(g, dataset) for name, g in (("before", genotype),
                                                          ("after", transformed))}
  return {"genotype": genotype, "transformed": transformed, "cost": costs}


def _phases(setup, epochs, warmup_epochs, learning_rate_min, summary_every,
            policy_summary_every):
  """The search's epoch for the step loop: SGD steps of the supernet on the weights split,
  then (from `warmup_epochs` on) REINFORCE steps of the policy on the policy split."""
  sizes, batch_size = setup.splits, setup.batch_size
  if min(sizes.weights_size, sizes.policy_size) < batch_size:
    raise UsageError(f"batch_size={batch_size} is larger than a search split "
                     f"({sizes.weights_size} weights / {sizes.policy_size} policy examples); "
                     "lower SearchSetup.batch_size")
  weights = position.SEARCH_PHASES[0]
  trainer = setup.weight_trainer

  def start_weights(epoch, skip):
    trainer.sgd.learning_rate.assign(schedule.learning_rate(
        epoch, epochs, trainer.base_learning_rate, learning_rate_min))
    return setup.epoch_batches(sizes.weights, epoch, skip=skip)

  def start_policy(epoch, skip):
    return setup.epoch_batches(sizes.policy, epoch, skip=skip, shift=1)  # its own shuffle

  return (
      step_loop.Phase(
          weights, sizes.weights_size // batch_size, start_weights, trainer.step,
          _summaries(weights, lambda: trainer.sgd.learning_rate), summary_every,
          lambda metrics: step_loop.shown(metrics, ("loss", "accuracy")),
          "WeightTrainer.learning_rate"),
      policy_phase(setup, sizes.policy_size // batch_size, start_policy, policy_summary_every,
                   first_epoch=warmup_epochs))


def policy_phase(setup, steps, start, summary_every, first_epoch=0):
  """The phase of REINFORCE steps, `steps` an epoch from `first_epoch` on; `start(epoch, skip)`
  returns what each step's environment scores on (the epoch's minibatches, or None where
  the accuracy is read from a table)."""
  policy = position.SEARCH_PHASES[1]
  optimizer = setup.agent._optimizer  # pylint: disable=protected-access

  def policy_step(batches):
    metrics = setup.policy_trainer.step(batches)
    setup.state.mean_reward.assign(metrics["reward_mean"])
    return metrics

  return step_loop.Phase(
      policy, steps, start, policy_step,
      _summaries(policy, lambda: optimizer.learning_rate, setup.action_space.action_names),
      summary_every,
      lambda metrics: step_loop.shown(metrics, ("reward_mean", "accuracy_change", "cost_change",
                                                "entropy")),
      "make_agent.learning_rate", first_epoch=first_epoch)


def _summaries(prefix, learning_rate, action_names=()):
  """A search phase's Phase.summaries: its metrics under `prefix`/ ('actions' as the share
  of each of `action_names`), and the learning rate `learning_rate()` reads."""

  def write(metrics, step):
    for key, value in metrics.items():
      if key == "actions":
        for name, share in zip(action_names, value.numpy()):
          tf.summary.scalar(f"{prefix}/actions/{name}", share, step=step)
      elif key != "finite":
        tf.summary.scalar(f"{prefix}/{key}", value, step=step)
    tf.summary.scalar(f"{prefix}/learning_rate", learning_rate(), step=step)

  return write


class _TargetDrawing:
  """The greedy transformation of the target as an image summary after each checkpoint,
  when it differs from the one last drawn: drawing took most of a checkpoint's time on
  small data sets."""

  def __init__(self, setup, target):
    self.setup, self.target = setup, target
    self.drawn = None  # the transformed target last drawn in this process

  def __call__(self):
    transformed = transformations.transform(self.setup.agent.policy, self.setup.editor,
                                            self.target)[0]
    if transformed == self.drawn:
      return
    self.drawn = transformed
    image = diagram.comparison_image(self.target, transformed)
    tf.summary.image("policy/transformed_target",
                     tf.image.decode_png(diagram.png_bytes(image))[None],
                     step=self.setup.state.total_steps)


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


def format_held_out(held_out, scored_on="the held-out images"):
  """One line per policy: edge outcomes, accuracy change, cost change of the cells."""
  lines = [f"on {held_out['cells']} held-out random input cells (accuracy change on "
           f"{scored_on}, change of the cells' multiply-adds):"]
  for name in ("greedy", "sampling", "uniform", "placement"):
    policy = held_out["policies"][name]
    lines.append(f"  {name:<10} kept {policy['kept']:.2f} skip {policy['skipped']:.2f} "
                 f"null {policy['nulled']:.2f}  accuracy {policy['accuracy_change']:+.3f}  "
                 f"multiply-adds {policy['madds_change']:+.1%}")
  lines.append("  (uniform: every valid action equally likely; placement: greedy's own "
               "changes on random edges)")
  return "\n".join(lines)
