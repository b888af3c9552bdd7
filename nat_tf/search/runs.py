"""Search runs in this process: training one as bin/train does, and reopening one from
its folder (its gin config and its latest checkpoint).

Derivation, export and the baselines rebuild exactly the SearchSetup a run trained
(from `config.gin`, written when the run started) and restore its weights, so they
work on finished and unfinished runs alike.
"""

import os
import time

import gin

from nat_tf import run_config
from nat_tf import run_folder
from nat_tf.errors import UsageError
from nat_tf.search import policy_eval
from nat_tf.search import search_setup
from nat_tf.search import train_eval
from nat_tf.training import checkpoints

# Per input family: its quickstart gin file (from the repository root, on the bundled
# digits) and the catalogue inputs a transformer trained with it can take.
QUICKSTARTS = {
    "fully_concat": ("gin/quickstart.gin", ("DARTS_V1", "DARTS_V2")),
    "loose_end": ("gin/quickstart_loose_end.gin", ("VGG", "ResBlock", "MobileNetV2")),
    "enas": ("gin/quickstart_enas.gin", ("ENAS",)),
    "natpp": ("gin/quickstart_natpp.gin", ("DARTS_V1", "DARTS_V2")),
}


def train(root_dir, gin_files=(), bindings=()):
  """bin/train's job in this process, for tests and reports: a fresh gin config from
  `gin_files` and `bindings` (saved in `root_dir` as the run starts), the operative one
  after, the folder locked meanwhile; returns train_eval's result. The gin config is
  cleared afterwards."""
  gin.clear_config()
  try:
    run_config.add_search_paths(gin_files)
    gin.parse_config_files_and_bindings(list(gin_files), list(bindings))
    with run_folder.opened(root_dir):
      result = train_eval.train_eval(root_dir)
      run_config.write_operative_config(root_dir)
    return result
  finally:
    gin.clear_config()


def train_unless_finished(root_dir, gin_files=(), bindings=()):
  """`train`, unless `root_dir` holds a run that finished: reports rerun on the runs they
  made without training again. Returns the training's wall time in seconds (0.0 if it
  had finished)."""
  if checkpoints.finished(root_dir):
    return 0.0
  os.makedirs(root_dir, exist_ok=True)
  start = time.time()
  train(root_dir, gin_files, bindings)
  return time.time() - start


def load(root_dir, bindings=(), checkpoint=None):
  """(SearchSetup restored from one of `root_dir`'s checkpoints, checkpoint path).

  `bindings` are extra gin bindings applied over the run's config (e.g. a data_dir);
  `checkpoint` names a kept checkpoint ('ckpt-500' or its path); None: the latest.
  """
  run_config.read_config(root_dir, bindings)
  search = search_setup.SearchSetup()
  checkpointer = checkpoints.Checkpointer(root_dir, search.state, **search.trackables())
  path = checkpointer.restore(for_inference=True, checkpoint=checkpoint)
  if path is None:
    raise UsageError(f"run {root_dir!r} has no checkpoint yet; wait for its first checkpoint "
                     "(train_eval.checkpoint_every steps)")
  return search, path


def evaluate(root_dir, bindings=(), seed=0):
  """policy_eval.PolicyEvaluator.evaluate of the run in `root_dir`, reopened from its
  latest checkpoint (`bindings` as for load; the gin config should hold nothing of
  another run)."""
  search, _ = load(root_dir, bindings)
  return policy_eval.PolicyEvaluator(search).evaluate(seed)
