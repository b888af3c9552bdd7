"""A training run's folder: one writer at a time, and no half-made folder after a failed start.

bin/train and bin/train_final hold `LOCK_FILE` (an flock, released by the kernel
when the holder exits however it exits, so the lock of a dead process is simply
taken over) while they write a run; the file names the holder's process, so a
second program on the same folder stops at once saying who holds it. A start
that fails before the run's first checkpoint removes what it created (the folder
itself if it made it), so a mistyped first command leaves nothing behind that
looks like a run. What a save killed mid-way leaves (TensorFlow's `ckpt-N_temp`
folders, atomic.py's hidden `.*.tmp` temporaries) is removed when the next holder
takes the lock: nothing else writes there then, and nothing else would remove them.
"""

import contextlib
import fcntl
import glob
import json
import os
import shutil
import socket
import sys
import time

from absl import logging

from nat_tf.errors import UsageError

LOCK_FILE = ".lock"
CHECKPOINT_DIR = "checkpoints"
CHECKPOINT_INDEX = "checkpoint"  # what tf.train.CheckpointManager writes after each save
# (subfolder, pattern) of what an interrupted save leaves: TensorFlow writes a checkpoint
# into `<prefix>_temp/` before renaming its files; atomic.py names its temporaries
# `.<name>.<random>.tmp` (atomic.py is on this module's layer, hence no import of it).
TEMPORARIES = ((".", ".*.tmp"), (CHECKPOINT_DIR, "ckpt-*_temp"))


def has_checkpoint(root_dir):
  return os.path.isfile(os.path.join(root_dir, CHECKPOINT_DIR, CHECKPOINT_INDEX))


def _create(root_dir, flag):
  """Make `root_dir` (and its parents); a UsageError naming `flag` if that is impossible."""
  if os.path.exists(root_dir) and not os.path.isdir(root_dir):
    raise UsageError(f"{flag}={root_dir!r} is a file; give a folder")
  try:
    os.makedirs(root_dir, exist_ok=True)
  except OSError as error:
    raise UsageError(f"{flag}={root_dir!r} cannot be created: {error.strerror}") from None
  if not os.access(root_dir, os.W_OK | os.X_OK):
    raise UsageError(f"{flag}={root_dir!r} is not writable; give a folder you can write")


def _holder(handle):
  try:
    handle.seek(0)
    return json.loads(handle.read() or "{}")
  except ValueError:
    return {}


@contextlib.contextmanager
def lock(root_dir, flag="--root_dir"):
  """Hold `root_dir`'s lock while the block runs; a UsageError naming the holder's process
  if another process holds it."""
  with open(os.path.join(root_dir, LOCK_FILE), "a+", encoding="utf-8") as handle:
    try:
      fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      holder = _holder(handle)
      raise UsageError(
          f"{flag}={root_dir!r} is in use by process {holder.get('pid', '(unknown)')} on "
          f"{holder.get('host', '(unknown host)')} ({holder.get('command', '?')}); wait for it "
          "to finish or stop it, or give another folder") from None
    handle.seek(0)
    handle.truncate()
    json.dump({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(),
               "command": sys.argv[0]}, handle)
    handle.flush()
    yield


def _remove(path):
  if os.path.isdir(path) and not os.path.islink(path):
    shutil.rmtree(path, ignore_errors=True)
  else:
    os.remove(path)


def remove_temporaries(root_dir):
  """Remove the TEMPORARIES of `root_dir` that a killed save left; call it only while
  holding the folder's lock, so that no save of a live process is among them."""
  found = sorted(path for folder, pattern in TEMPORARIES
                 for path in glob.glob(os.path.join(glob.escape(os.path.join(root_dir, folder)),
                                                    pattern)))
  for path in found:
    _remove(path)
  if found:
    logging.info("removed what an interrupted save left in %s: %s", root_dir,
                 ", ".join(os.path.relpath(path, root_dir) for path in found))


@contextlib.contextmanager
def locked(root_dir, flag="--root_dir"):
  """Create `root_dir` and hold its lock while the block runs, its stale temporaries removed
  first; a UsageError naming `flag` if it cannot be created or another process holds it."""
  _create(root_dir, flag)
  with lock(root_dir, flag):
    remove_temporaries(root_dir)
    yield root_dir


def _remove_new_entries(root_dir, before):
  """Remove what a failed first start created: the whole folder if it made it (`before` is
  None), else the entries that were not in `before`."""
  if before is None:
    shutil.rmtree(root_dir, ignore_errors=True)
    return
  for entry in set(os.listdir(root_dir)) - before:
    _remove(os.path.join(root_dir, entry))


@contextlib.contextmanager
def opened(root_dir, exclusive=True, flag="--root_dir"):
  """Create `root_dir` and yield it. When `exclusive` (every program but the non-chief
  workers of a multi-worker run, which share the chief's folder), hold its lock, and if
  the block fails before the run's first checkpoint, remove what this start created."""
  before = set(os.listdir(root_dir)) if os.path.isdir(root_dir) else None
  if not exclusive:
    _create(root_dir, flag)
    yield root_dir
    return
  with locked(root_dir, flag):
    try:
      yield root_dir
    except BaseException:
      if not has_checkpoint(root_dir):
        _remove_new_entries(root_dir, before)
      raise
