"""bin/export's two jobs: a search run's policies and a train_final run's network.

Either export is written from any kept checkpoint of its run (the latest by
default), replaces its folder whole, and is checked by loading it back in a fresh
process (`nat_tf.reload_check`) before the command reports success.
"""

import os

from absl import logging

from nat_tf import atomic
from nat_tf import export
from nat_tf import reload_check
from nat_tf.evaluate import train_final
from nat_tf.search import runs
from nat_tf.training import checkpoints

# What an export folder holds; anything else in --output_dir is a user's and stops the export.
_POLICY_FILES = export.POLICY_KINDS + (export.SPACE_FILE,)
_NETWORK_FILES = ("saved_model.pb", "variables", "assets", "fingerprint.pb")


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
  model, path = train_final.load(train_dir, checkpoint)
  _warn_unless_finished(os.path.isfile(os.path.join(train_dir, train_final.REPORT_FILE)),
                        "--train_dir", train_dir, path)
  reload_check.export_network_checked(model, output_dir)
  return path


def _warn_unless_finished(finished, flag, folder, path):
  """A warning when the run in `folder` has not trained to its end: an export of a run
  that is still training, or was interrupted, is easy to mistake for its result."""
  if not finished:
    logging.warning("%s=%s has not finished training: exporting %s as it stands; resume its "
                    "training to the end first to export the result", flag, folder, path)
