"""bin/export's two jobs: a search run's policies and a train_final run's network.

Either export is written from any kept checkpoint of its run (the latest by
default), replaces its folder whole, and is checked by loading it back in a fresh
process (`nat_tf.reload_check`) before the command reports success.
"""

from nat_tf import atomic
from nat_tf import export
from nat_tf import reload_check
from nat_tf.evaluate import train_final
from nat_tf.search import runs

# What an export folder holds; anything else in --output_dir is a user's and stops the export.
_POLICY_FILES = export.POLICY_KINDS + (export.SPACE_FILE,)
_NETWORK_FILES = ("saved_model.pb", "variables", "assets", "fingerprint.pb")


def policy_from_run(run_dir, output_dir, checkpoint=None, bindings=()):
  """Greedy and sampling policy SavedModels of a search run; returns the checkpoint used."""
  atomic.check_replaceable(output_dir, _POLICY_FILES)
  search, path = runs.load(run_dir, bindings, checkpoint, ground_truth_ok=True)
  reload_check.export_policy_checked(search.agent, search.editor, output_dir,
                                     search.evaluation_inputs(16, seed=0))
  return path


def network_from_training(train_dir, output_dir, checkpoint=None):
  """The network SavedModel of a train_final run; returns the checkpoint used."""
  atomic.check_replaceable(output_dir, _NETWORK_FILES)
  model, path = train_final.load(train_dir, checkpoint)
  reload_check.export_network_checked(model, output_dir)
  return path
