"""Search runs in this process: training one as bin/train does, and reopening one from
its folder (its gin config and its latest checkpoint).

Derivation, export and the baselines rebuild exactly the SearchSetup a run trained
(from `config.gin`, written when the run started) and restore its weights, so they
work on finished and unfinished runs alike.
"""

import os
import re
import time

import gin

from nat_tf import run_config
from nat_tf import run_folder
from nat_tf.errors import UsageError
from nat_tf.search import ground_truth
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
      train = ground_truth.train_ground_truth if ground_truth.benchmark() else train_eval.train_eval
      result = train(root_dir)
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


def benchmark_of(root_dir):
  """The benchmark whose table the run in `root_dir` searched on (its config.gin's
  `benchmark.name`), or None for a supernet search; read from the text, so that the
  caller's gin config is left as it is. A folder without config.gin is refused by `load`."""
  path = os.path.join(root_dir, run_config.CONFIG)
  if not os.path.isfile(path):
    return None
  with open(path, encoding="utf-8") as handle:
    found = re.search(r"^benchmark\.name\s*=\s*['\"](\w+)['\"]", handle.read(), flags=re.M)
  return found.group(1) if found else None


def load(root_dir, bindings=(), checkpoint=None, ground_truth_ok=False):
  """(SearchSetup restored from one of `root_dir`'s checkpoints, checkpoint path).

  `bindings` are extra gin bindings applied over the run's config (e.g. a data_dir);
  `checkpoint` names a kept checkpoint ('ckpt-500' or its path); None: the latest.
  A run on a benchmark's table (search/ground_truth.py) gives its GroundTruthSetup where
  the caller takes one (`ground_truth_ok`: derivation and export) and is refused by the
  rest, which need a supernet.
  """
  run_config.read_config(root_dir, bindings)
  name = ground_truth.benchmark()
  if name and not ground_truth_ok:
    raise UsageError(f"run {root_dir!r} searched on the {name} table, without a supernet, "
                     "which this program needs; bin/derive and bin/export take such a run, and "
                     "bench/nasbench201_report.py compares its policy with random search")
  search = ground_truth.GroundTruthSetup() if name else search_setup.SearchSetup()
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
