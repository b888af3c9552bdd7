"""bin/export's jobs: a search run's policies, a train_final run's network as a
SavedModel, or as TFLite models with their measured latency.

Every export is written from any kept checkpoint of its run (the latest by default),
replaces its folder whole, and is checked by loading it back in a fresh process
(`nat_tf.reload_check`) before the command reports success.
"""

import json
import os
import tempfile

from absl import logging
import numpy as np

from nat_tf import atomic
from nat_tf import export
from nat_tf import tflite
from nat_tf.data import datasets
from nat_tf.data import pipeline
from nat_tf.data import splits
from nat_tf import reload_check
from nat_tf import run_config
from nat_tf.evaluate import train_final
from nat_tf.search import runs
from nat_tf.training import checkpoints

# What an export folder holds; anything else in --output_dir is a user's and stops the export.
_POLICY_FILES = export.POLICY_KINDS + (export.SPACE_FILE,)
_NETWORK_FILES = ("saved_model.pb", "variables", "assets", "fingerprint.pb")
TFLITE_REPORT = "tflite.json"
_TFLITE_FILES = (*tflite.VARIANTS.values(), TFLITE_REPORT)
# Test images a TFLite model is checked on: the whole test split of the bundled datasets,
# the first thousand of a larger one.
CHECK_EXAMPLES = 1000


def policy_from_run(run_dir, output_dir, checkpoint=None, bindings=()):
  """Greedy and sampling policy SavedModels of a search run; returns the checkpoint used."""
  atomic.check_replaceable(output_dir, _POLICY_FILES)
  search, path = runs.load(run_dir, bindings, checkpoint, ground_truth_ok=True)
  _warn_unless_finished(checkpoints.finished(run_dir), "--run_dir", run_dir, path)
  reload_check.export_policy_checked(search.agent, search.editor, output_dir,
                                     search.evaluation_inputs(16, seed=0))
  return path


def network_from_training(train_dir, output_dir, checkpoint=None):
  """The network SavedModel of a train_final run; returns the checkpoint used."""
  atomic.check_replaceable(output_dir, _NETWORK_FILES)
  model, path = _loaded_training(train_dir, checkpoint)
  reload_check.export_network_checked(model, output_dir)
  return path


def tflite_from_training(train_dir, output_dir, checkpoint=None):
  """TFLite models (float32, dynamic-range int8) of a train_final run's network, each
  checked on test images in a fresh process and timed there; tflite.json beside them.
  Returns the report (also tflite.json's content)."""
  atomic.check_replaceable(output_dir, _TFLITE_FILES)
  model, path = _loaded_training(train_dir, checkpoint)
  with open(os.path.join(train_dir, train_final.RUN_FILE), encoding="utf-8") as handle:
    dataset = json.load(handle)["dataset"]
  images, labels = _test_images(dataset, run_config.bound_or_none("train_final.data_dir"))
  keras_top1 = float(np.mean(np.argmax(model(images, training=False), axis=-1) == labels))
  with tempfile.TemporaryDirectory() as scratch, atomic.directory(output_dir) as folder:
    saved = export.export_network(model, os.path.join(scratch, "network"))
    variants = reload_check.tflite_checked(saved, folder, images, labels, keras_top1)
    report = {"checkpoint": path, "dataset": dataset, "test_examples": len(labels),
              "network_top1": keras_top1, "threads": 1, "variants": variants}
    atomic.write_json(os.path.join(folder, TFLITE_REPORT), report)
  return report


def _test_images(dataset, data_dir):
  """(float32 images, int32 labels) of the first CHECK_EXAMPLES test examples."""
  data = pipeline.batches(splits.final_evaluation(dataset, data_dir).take(CHECK_EXAMPLES),
                          datasets.info(dataset), 250, training=False, drop_remainder=False)
  batches = list(data.as_numpy_iterator())
  return (np.concatenate([images for images, _ in batches]),
          np.concatenate([labels for _, labels in batches]))


def _loaded_training(train_dir, checkpoint):
  """train_final.load, with a warning if the run has not finished."""
  model, path = train_final.load(train_dir, checkpoint)
  _warn_unless_finished(train_final.finished(train_dir), "--train_dir", train_dir, path)
  return model, path


def _warn_unless_finished(finished, flag, folder, path):
  """A warning when the run in `folder` has not trained to its end: an export of a run
  that is still training, or was interrupted, is easy to mistake for its result."""
  if not finished:
    logging.warning("%s=%s has not finished training: exporting %s as it stands; resume its "
                    "training to the end first to export the result", flag, folder, path)
