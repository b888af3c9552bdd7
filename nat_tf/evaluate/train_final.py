"""Training a genotype from scratch with the reference code's protocol: the number a paper reports.

Everything is gin-bound; gin/train_final_*.gin are the protocols. The network's
width, depth, auxiliary head and drop path come through `build_network`, the rest
is here: SGD with momentum and PyTorch-style weight decay on gradients clipped to
a global norm, the learning rate cosine-annealed and drop path raised linearly
once per epoch (as the DARTS and NAT evaluation scripts do), cutout and label
smoothing as the dataset's protocol says, auxiliary loss weighted in. The steps run
in training/step_loop, as the search's do: one phase per epoch, with its progress
lines, summaries, checkpoints, stop on repeated non-finite steps and clean stop on
SIGINT or SIGTERM (the steps since the last checkpoint saved, one line on how to resume).

A run folder holds config.gin, run.json (the genotype and dataset trained; a
resumed run must ask for the same), checkpoints (position = epoch and step in it;
an epoch's batches are a function of (seed, epoch), so a resumed run skips the
steps it took and sees the same data; drop path's random masks are not replayed),
TensorBoard summaries, and at the end report.json and report.md (top-1 on the
test split, which nothing else reads; parameters and multiply-adds counted on the
trained model) and network/, a SavedModel checked by reloading it in a fresh process.
"""

import functools
import json
import os

from absl import logging
import gin
import tensorflow as tf

from nat_tf import atomic
from nat_tf import reload_check
from nat_tf import run_config
from nat_tf.data import datasets
from nat_tf.data import pipeline
from nat_tf.data import splits
from nat_tf.errors import UsageError
from nat_tf.nn import counting
from nat_tf.nn import network as network_lib
from nat_tf.space import cost
from nat_tf.space import genotype_format
from nat_tf.training import checkpoints
from nat_tf.training import position
from nat_tf.training import schedule
from nat_tf.training import sgd
from nat_tf.training import step_loop
from nat_tf.training import strategy as strategy_lib
from nat_tf.training import top1

RUN_FILE = "run.json"
REPORT_FILE = "report.json"  # written at the end: a run folder holding it has finished
NETWORK_DIR = "network"
TRAIN = "train"  # the one phase's name
SUM = tf.distribute.ReduceOp.SUM


class Trainer(tf.Module):
  """The distributed training step and evaluation batch of one network."""

  def __init__(self, model, strategy, global_batch_size, learning_rate, momentum, weight_decay,
               gradient_clip, auxiliary_weight, label_smoothing):
    super().__init__(name="trainer")
    self.model, self.strategy, self.global_batch_size = model, strategy, global_batch_size
    self.gradient_clip = gradient_clip
    self.auxiliary_weight, self.label_smoothing = auxiliary_weight, label_smoothing
    with strategy.scope():
      self.sgd = sgd.MomentumSGD(model.trainable_variables, learning_rate, momentum, weight_decay)
    self.step = tf.function(self._step, autograph=False)
    self.evaluate_batch = tf.function(self._evaluate_batch, autograph=False)

  def _loss(self, labels, logits):
    targets = tf.one_hot(labels, self.model.skeleton.num_classes)
    return tf.keras.losses.categorical_crossentropy(targets, logits, from_logits=True,
                                                    label_smoothing=self.label_smoothing)

  def _replica_gradients(self, images, labels):
    variables = self.model.trainable_variables
    with tf.GradientTape() as tape:
      outputs = self.model(images, training=True)
      logits, auxiliary = outputs if isinstance(outputs, tuple) else (outputs, None)
      per_example = self._loss(labels, logits)
      if auxiliary is not None:
        per_example += self.auxiliary_weight * self._loss(labels, auxiliary)
      loss = tf.nn.compute_average_loss(per_example, global_batch_size=self.global_batch_size)
    # Zeros for weights the loss does not reach: a cell input that only null edges read
    # keeps DARTS' preprocessing (and its cost, as the reference's network does) unused.
    grads = [tf.convert_to_tensor(g) for g in
             tape.gradient(loss, variables, unconnected_gradients=tf.UnconnectedGradients.ZERO)]
    grads = tf.distribute.get_replica_context().all_reduce(SUM, grads)
    return loss, top1.correct(logits, labels), grads

  def _step(self, iterator):
    """{'loss', 'accuracy', 'gradient_norm', 'finite'}; a non-finite step changes nothing."""
    images, labels = next(iterator)
    loss, correct, grads = self.strategy.run(self._replica_gradients, args=(images, labels))
    loss = self.strategy.reduce(SUM, loss, axis=None)
    grads = [self.strategy.experimental_local_results(g)[0] for g in grads]
    grads, norm = tf.clip_by_global_norm(grads, self.gradient_clip)
    finite = tf.logical_and(tf.math.is_finite(norm), tf.math.is_finite(loss))
    with tf.control_dependencies([self.sgd.apply(grads, self.model.trainable_variables, finite)]):
      return {"loss": tf.identity(loss), "gradient_norm": norm, "finite": finite,
              "accuracy": self.strategy.reduce(SUM, correct, axis=None) / self.global_batch_size}

  def _evaluate_batch(self, images, labels):
    def replica(images, labels):
      logits = self.model(images, training=False)
      return top1.correct(logits, labels), tf.cast(tf.size(labels), tf.float32)

    counts = self.strategy.run(replica, args=(images, labels))
    return tuple(self.strategy.reduce(SUM, count, axis=None) for count in counts)

  def evaluate(self, data):
    """(top-1 accuracy, examples) of the model on batched (images, labels) `data`."""
    correct = count = 0.0
    for images, labels in self.strategy.experimental_distribute_dataset(data):
      batch_correct, batch_count = self.evaluate_batch(images, labels)
      correct, count = correct + float(batch_correct), count + float(batch_count)
    return correct / max(count, 1.0), int(count)


def _pin_run(root_dir, genotype, dataset):
  """Write run.json, or check that a resumed run trains what it trained before."""
  wanted = {"dataset": dataset, "genotype": genotype_format.to_dict(genotype)}
  path = os.path.join(root_dir, RUN_FILE)
  if os.path.isfile(path):
    with open(path, encoding="utf-8") as handle:
      found = json.load(handle)
    if found != wanted:
      raise UsageError(f"{root_dir!r} trains another network ({path} holds dataset "
                       f"{found.get('dataset')!r} and its genotype); resuming it with another "
                       "genotype or dataset would mix two runs: give a new --root_dir")
  atomic.write_json(path, wanted)


def _network(genotype, dataset, strategy):
  with strategy.scope():
    return network_lib.build_network(genotype, dataset=dataset)


@gin.configurable(denylist=["root_dir", "genotype"])
def train_final(root_dir, genotype, dataset="cifar10", data_dir=None, epochs=600, batch_size=96,
                learning_rate=0.025, learning_rate_min=0.001, momentum=0.9, weight_decay=3e-4,
                gradient_clip=5.0, auxiliary_weight=0.4, label_smoothing=0.0, cutout=16, seed=0,
                steps_per_epoch=None, eval_batch_size=256, checkpoint_every=1000,
                summary_every=50, log_every=50, max_nonfinite=10):
  """Train (or resume) `genotype` in `root_dir`; returns the final report dict.

  steps_per_epoch: cap on the steps of an epoch (None: the whole training split);
  for smoke tests and quick looks, not for results.
  """
  capped = {} if steps_per_epoch is None else {"steps_per_epoch": steps_per_epoch}
  step_loop.check_counts(
      "train_final", dict(epochs=epochs, seed=seed),
      dict(batch_size=batch_size, eval_batch_size=eval_batch_size,
           checkpoint_every=checkpoint_every, summary_every=summary_every, log_every=log_every,
           max_nonfinite=max_nonfinite, **capped))
  run_config.check_kind(root_dir, "train_final run", "bin/train_final")
  _pin_run(root_dir, genotype, dataset)
  info = datasets.info(dataset)
  strategy = strategy_lib.make_strategy()
  tf.random.set_seed(seed)
  model = _network(genotype, dataset, strategy)
  trainer = Trainer(model, strategy, batch_size, learning_rate, momentum, weight_decay,
                    gradient_clip, auxiliary_weight, label_smoothing)
  state = position.TrainState()
  checkpointer = checkpoints.Checkpointer(root_dir, state, model=model, sgd=trainer.sgd)
  if checkpoints.resume(checkpointer, root_dir):
    logging.info("resumed at epoch %d, step %d", int(state.epoch), int(state.step_in_epoch))
  train = splits.final_training(dataset, data_dir)
  steps = _steps_per_epoch(train, dataset, batch_size, steps_per_epoch)

  def start(epoch, skip):
    trainer.sgd.learning_rate.assign(schedule.learning_rate(epoch, epochs, learning_rate,
                                                            learning_rate_min))
    model.schedule_drop_path(epoch, epochs)
    data = pipeline.batches(train, info, batch_size, training=True, seed=seed, epoch=epoch,
                            cutout=cutout).take(steps).skip(skip)
    return iter(strategy.experimental_distribute_dataset(data))

  phase = step_loop.Phase(TRAIN, steps, start, trainer.step,
                          functools.partial(_summaries, trainer), summary_every,
                          functools.partial(_described, trainer), "train_final.learning_rate")
  loop = step_loop.StepLoop(checkpointer, [phase], epochs, log_every=log_every,
                            checkpoint_every=checkpoint_every, max_nonfinite=max_nonfinite)
  writer = tf.summary.create_file_writer(root_dir)  # TensorBoard names the run after its folder
  with writer.as_default():
    loop.run()
    report = _report(root_dir, genotype, dataset, model, trainer, state, eval_batch_size, data_dir)
    tf.summary.scalar("test/top1", report["top1"], step=state.total_steps)
  return report


def _steps_per_epoch(train, dataset, batch_size, cap):
  """The steps of an epoch: the training split's whole batches, at most `cap` (if given)."""
  steps = int(train.cardinality()) // batch_size
  if cap is not None:
    steps = min(steps, cap)
  if steps < 1:
    raise UsageError(f"train_final.batch_size={batch_size} is larger than the {dataset} training "
                     "split; lower it")
  return steps


def _summaries(trainer, metrics, step):
  """The training step's Phase.summaries."""
  for key in ("loss", "accuracy", "gradient_norm"):
    tf.summary.scalar(f"train/{key}", metrics[key], step=step)
  tf.summary.scalar("train/learning_rate", trainer.sgd.learning_rate, step=step)
  tf.summary.scalar("train/drop_path", trainer.model.drop_path_rate, step=step)


def _described(trainer, metrics):
  """The training step's Phase.describe: its loss and accuracy, and the learning rate."""
  return (f"{step_loop.shown(metrics, ('loss', 'accuracy'))} "
          f"lr={float(trainer.sgd.learning_rate):.5f}")


def _report(root_dir, genotype, dataset, model, trainer, state, eval_batch_size, data_dir):
  """Test top-1, the model's counted cost; report.json, report.md and the checked export."""
  info = datasets.info(dataset)
  test = pipeline.batches(splits.final_evaluation(dataset, data_dir), info, eval_batch_size,
                          training=False, drop_remainder=False)
  top1, examples = trainer.evaluate(test)
  auxiliary = model.auxiliary_head is not None
  report = {"genotype": genotype_format.to_literal(genotype), "dataset": info.name,
            "test_split": info.test_split, "test_examples": examples, "top1": top1,
            "epochs": int(state.epoch), "steps": state.total_steps, "network": NETWORK_DIR,
            "cost": cost.summary(model.skeleton, dataset, auxiliary, counting.count(model))}
  reload_check.export_network_checked(model, os.path.join(root_dir, NETWORK_DIR))
  atomic.write_json(os.path.join(root_dir, REPORT_FILE), report)
  atomic.write_text(os.path.join(root_dir, "report.md"), markdown(report))
  logging.info("test top-1 %.4f on %d examples", top1, examples)
  return report


def markdown(report):
  """The report as a short Markdown table."""
  cost = report["cost"]
  return "\n".join([
      f"# {report['dataset']}: trained from scratch", "",
      "| top-1 (test) | test examples | params | multiply-adds | epochs | steps |",
      "|---|---|---|---|---|---|",
      f"| {report['top1']:.4f} | {report['test_examples']} | {cost['params']:,} | "
      f"{cost['madds']:,} | {report['epochs']} | {report['steps']} |", "",
      f"{cost['skeleton']} network, C={cost['channels']}, L={cost['layers']}, "
      f"{cost['image_size']}x{cost['image_size']} "
      f"images; auxiliary head (training only) {cost['params_auxiliary']:,} params, not "
      "counted above.", "", "```", report["genotype"], "```", ""])


def finished(root_dir):
  """Whether the train_final run in `root_dir` trained to its end (it wrote its report)."""
  return os.path.isfile(os.path.join(root_dir, REPORT_FILE))


def load(root_dir, checkpoint=None):
  """(the network of a train_final run with the weights of `checkpoint` (name or path;
  None: the latest), the checkpoint's path), rebuilt from the run's config.gin and run.json."""
  run_config.read_config(root_dir, (), "train_final run", "bin/train_final")
  with open(os.path.join(root_dir, RUN_FILE), encoding="utf-8") as handle:
    run = json.load(handle)
  genotype = genotype_format.from_json(json.dumps(run["genotype"]))
  model = _network(genotype, run["dataset"], tf.distribute.get_strategy())
  state = position.TrainState()
  checkpointer = checkpoints.Checkpointer(root_dir, state, model=model)
  path = checkpointer.restore(for_inference=True, checkpoint=checkpoint)
  if path is None:
    raise UsageError(f"train_final run {root_dir!r} has no checkpoint yet (one is written at "
                     "every epoch's end)")
  return model, path
