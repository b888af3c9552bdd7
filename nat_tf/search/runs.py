"""Reopening a search run from its folder: its gin config and its latest checkpoint.

Derivation, export and the baselines rebuild exactly the SearchSetup a run trained
(from `config.gin`, written when the run started) and restore its weights, so they
work on finished and unfinished runs alike.
"""

import os

import gin

from nat_tf import cli
from nat_tf.errors import UsageError
from nat_tf.search import checkpoints
from nat_tf.search import setup as setup_lib


def load(root_dir, bindings=()):
  """(SearchSetup restored from `root_dir`'s latest checkpoint, checkpoint path).

  `bindings` are extra gin bindings applied over the run's config (e.g. a data_dir).
  """
  config = os.path.join(root_dir, cli.CONFIG)
  if not os.path.isfile(config):
    raise UsageError(f"{root_dir!r} is not a search run: {cli.CONFIG} is missing (bin/train "
                     "writes it when a run starts)")
  with gin.unlock_config():
    gin.parse_config_files_and_bindings([config], list(bindings))
  search = setup_lib.SearchSetup()
  checkpointer = checkpoints.Checkpointer(root_dir, search.state, **search.trackables())
  path = checkpointer.restore(for_inference=True)
  if path is None:
    raise UsageError(f"run {root_dir!r} has no checkpoint yet; wait for its first checkpoint "
                     "(train_eval.checkpoint_every steps)")
  return search, path
