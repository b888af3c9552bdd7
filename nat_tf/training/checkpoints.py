"""Where a run is, saved so that a restarted run resumes exactly there.

A run's state (position.py: epoch, phase, step within the phase, totals) is
checkpointed together with what the run trains: the network, the agent, the
optimisers and the random generators. Data positions need no saving: an epoch's
batch order is a function of (seed, epoch) (nat_tf.data.pipeline), so a resumed
phase rebuilds its epoch and skips the steps already taken.

TensorFlow writes a checkpoint's files first and then replaces the `checkpoint`
index atomically, so an interruption mid-save leaves the previous checkpoint as
the latest one. status.json is replaced atomically after every save. A checkpoint
damaged afterwards (a data file cut short, a disk error) is found by reading it
back whole before it is restored; the newest intact kept one is used instead,
with a warning naming the damaged files. An index that cannot be read or names no
checkpoint whose files exist, while `ckpt-N.index` files do, is rewritten from those
files, with a warning: TensorFlow would ignore it, start the run again from step 0 and,
knowing none of them, later overwrite or never delete them.
"""

import glob
import json
import os
import time

from absl import logging
import tensorflow as tf

from nat_tf import atomic
from nat_tf import run_config
from nat_tf import run_folder
from nat_tf.errors import UsageError

STATUS_FILE = "status.json"


def finished(root_dir):
  """Whether `root_dir`'s status.json says its run trained to the end (False where the run
  has not saved yet): a caller that only needs the run's results skips training it again."""
  path = os.path.join(root_dir, STATUS_FILE)
  if not os.path.isfile(path):
    return False
  with open(path, encoding="utf-8") as handle:
    return bool(json.load(handle)["finished"])


def find(manager, checkpoint=None):
  """The path of `checkpoint` among `manager`'s: None means the latest (None if there is
  none); else a checkpoint's name ('ckpt-500') or path, or a UsageError listing the kept ones."""
  if checkpoint is None:
    return manager.latest_checkpoint
  for path in manager.checkpoints:
    if checkpoint in (path, os.path.basename(path)):
      return path
  kept = ", ".join(os.path.basename(path) for path in manager.checkpoints) or "none"
  raise UsageError(f"no checkpoint {checkpoint!r} in {manager.directory}; kept: {kept}")


class StructureMismatch(UsageError):
  """A checkpoint that reads back but does not fit what this configuration builds (another
  width, depth or op list than the run was trained with)."""


def damage(path):
  """None if every tensor of the checkpoint at `path` reads back; else what is wrong, naming
  its files."""
  try:
    reader = tf.train.load_checkpoint(path)
    for key in reader.get_variable_to_shape_map():
      reader.get_tensor(key)
  except (tf.errors.OpError, IndexError, ValueError) as error:
    files = ", ".join(sorted(os.path.basename(f) for f in glob.glob(f"{glob.escape(path)}.*")))
    return f"checkpoint {path} ({files or 'no files'}) does not read back: {_first_line(error)}"
  return None


def _first_line(error):
  """TensorFlow's errors run to many lines; the first says what went wrong."""
  return (str(error).strip().splitlines() or [type(error).__name__])[0]


def find_intact(manager, checkpoint=None):
  """Like `find`, but the checkpoint must read back whole: a named one that does not is a
  UsageError naming its files; for the latest, damaged ones are skipped with a warning and
  the newest intact kept one is returned (a UsageError if every kept one is damaged)."""
  if checkpoint is not None:
    path = find(manager, checkpoint)
    problem = damage(path)
    if problem:
      raise UsageError(f"{problem}; give another --checkpoint (kept: "
                       f"{', '.join(os.path.basename(p) for p in manager.checkpoints)})")
    return path
  problems = []
  for path in reversed(manager.checkpoints):
    problem = damage(path)
    if problem is None:
      if problems:
        logging.warning("%s; using %s, the newest kept checkpoint that is intact",
                        "; ".join(problems), os.path.basename(path))
      return path
    problems.append(problem)
  if problems:
    raise UsageError("; ".join(problems) + "; no kept checkpoint is intact (restore them from a "
                     "copy, or start the run again in a new folder)")
  return None


def resume(checkpointer, root_dir):
  """Restore the run's newest intact checkpoint (if any), then save the gin config in force
  as its config.gin; returns the checkpoint's path or None.

  In that order, so a resume whose bindings do not fit the run (or fail before it is
  restored) leaves the config.gin that rebuilds the run untouched; a StructureMismatch
  names the bindings that differ from it.
  """
  try:
    path = checkpointer.restore()
  except StructureMismatch as error:
    raise StructureMismatch(f"{error}; {run_config.other_settings(root_dir)}") from None
  if checkpointer.chief:
    run_config.write_config(root_dir)
  return path


def _listed(directory):
  """The checkpoints in `directory` found by their `ckpt-N.index` files, oldest first."""
  numbered = []
  for path in glob.glob(os.path.join(glob.escape(directory), "ckpt-*.index")):
    prefix = path[:-len(".index")]
    number = prefix.rsplit("-", 1)[1]
    if number.isdigit():
      numbered.append((int(number), prefix))
  return [prefix for _, prefix in sorted(numbered)]


def _index_names_one(directory):
  """Whether `directory`'s index reads and names a checkpoint whose `.index` file exists."""
  try:
    state = tf.train.get_checkpoint_state(directory)
  except (ValueError, UnicodeDecodeError):  # ValueError: an index naming no latest one
    return False
  return state is not None and any(
      os.path.isfile(f"{path}.index")
      for path in [state.model_checkpoint_path, *state.all_model_checkpoint_paths])


def repair_index(directory):
  """Rewrite `directory`'s checkpoint index from its `ckpt-N.index` files where it is
  unreadable or names none of them (see the module doc), before a CheckpointManager reads
  it. Their files' times become the index's timestamps, so that the manager deletes the
  oldest beyond max_to_keep at its next save as it would have."""
  listed = _listed(directory)
  if not listed or _index_names_one(directory):
    return
  logging.warning("checkpoint index %s cannot be read or names no checkpoint; rewritten from "
                  "the checkpoints in its folder (%s)",
                  os.path.join(directory, run_folder.CHECKPOINT_INDEX),
                  ", ".join(os.path.basename(path) for path in listed))
  times = [os.path.getmtime(f"{path}.index") for path in listed]
  tf.__internal__.train.update_checkpoint_state(
      directory, listed[-1], all_model_checkpoint_paths=listed, save_relative_paths=True,
      all_model_checkpoint_timestamps=times, last_preserved_timestamp=min(times) - 1)


class Checkpointer:
  """Saves and restores a run: the trackables given, plus its state (position.py)."""

  def __init__(self, root_dir, state, max_to_keep=3, chief=True, **trackables):
    self.root_dir = root_dir
    self.state = state
    self.chief = chief
    directory = os.path.join(root_dir, run_folder.CHECKPOINT_DIR)
    repair_index(directory)
    self.checkpoint = tf.train.Checkpoint(state=state, **trackables)
    # Every worker of a multi-worker run restores what the chief saved, so all resume
    # in step; the others must save too (collectives), but not there.
    self.saved = tf.train.CheckpointManager(self.checkpoint, directory, max_to_keep)
    self.manager = self.saved if chief else tf.train.CheckpointManager(
        self.checkpoint, os.path.join(root_dir, f".worker_checkpoints_{os.getpid()}"),
        max_to_keep)

  def restore(self, for_inference=False, checkpoint=None):
    """Restore `checkpoint` (see `find_intact`), by default the newest intact one if there
    is one; returns its path or None. StructureMismatch if it does not fit these objects.

    Optimizer slots are restored when the optimizer first creates them; with
    `for_inference` they never will be, and that is expected.
    """
    path = find_intact(self.saved, checkpoint)
    if path:
      try:
        status = self.checkpoint.restore(path).assert_existing_objects_matched()
      except (ValueError, AssertionError) as error:
        raise StructureMismatch(f"checkpoint {path} does not fit what this configuration "
                                f"builds ({_first_line(error)})") from None
      if for_inference:
        status.expect_partial()
    return path

  def save(self):
    """Write a checkpoint numbered by total steps, then replace status.json. A write that
    fails (a full disk, a file-size limit) is a UsageError naming the checkpoint: TensorFlow
    writes into a temporary folder and the index last, so the kept checkpoints and
    status.json are left as they were, and a resume starts from the last one."""
    number = self.state.total_steps
    try:
      path = self.manager.save(checkpoint_number=number)
      if self.chief:
        status = dict(self.state.status(), checkpoint=os.path.basename(path), time=time.time())
        atomic.write_json(os.path.join(self.root_dir, STATUS_FILE), status)
    except (tf.errors.OpError, OSError) as error:
      raise UsageError(f"could not write checkpoint ckpt-{number} in {self.manager.directory!r} "
                       f"({_first_line(error)}); the kept checkpoints are as they were: free "
                       "disk space (or raise the file-size limit), then resume") from None
    return path
