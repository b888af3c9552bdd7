"""Atomic writes: a reader sees the old file or the new one, never half of one.

Everything a run leaves behind (status, reports, genotypes, exports) goes through
here, so an interrupted run or a failing export cannot leave a corrupt output.
"""

import contextlib
import json
import os
import shutil
import tempfile

from nat_tf.errors import UsageError


def _umask():
  mask = os.umask(0)
  os.umask(mask)
  return mask


def _plain_permissions(path, mode):
  """mkstemp/mkdtemp create owner-only entries; give outputs the usual umask permissions."""
  os.chmod(path, mode & ~_umask())


def write_bytes(path, data):
  """Replace `path` with `data` atomically (temporary file in the same folder, then rename)."""
  folder = os.path.dirname(os.path.abspath(path))
  os.makedirs(folder, exist_ok=True)
  handle, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
  try:
    with os.fdopen(handle, "wb") as stream:
      stream.write(data)
      stream.flush()
      os.fsync(stream.fileno())
    _plain_permissions(tmp, 0o666)
    os.replace(tmp, path)
  except BaseException:
    with contextlib.suppress(FileNotFoundError):
      os.remove(tmp)
    raise


def write_text(path, text):
  write_bytes(path, text.encode("utf-8"))


def write_json(path, data):
  write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n")


def check_replaceable(path, names, flag="--output_dir"):
  """Refuse an existing `path` that holds anything but `names`: `directory` replaces a
  folder whole, and a mistyped output folder (e.g. '.') must not take a user's files."""
  if not os.path.exists(path):
    return
  if not os.path.isdir(path):
    raise UsageError(f"{flag}={path!r} is a file; give a folder")
  if not os.access(path, os.W_OK | os.X_OK):
    raise UsageError(f"{flag}={path!r} is read-only; give a folder you can write")
  foreign = sorted(set(os.listdir(path)) - set(names))
  if foreign:
    raise UsageError(f"{flag}={path!r} holds other files ({', '.join(foreign[:5])}); it would "
                     "be replaced whole: give a new or empty folder")


def check_outside(path, folder, flag, folder_flag="--output_dir"):
  """Refuse an input file `path` that lies in `folder`, which `directory` is about to replace
  whole: the output would take the place of its own input. A `path` that is not a file (a
  catalogue name) passes."""
  inside = os.path.realpath(path).startswith(os.path.join(os.path.realpath(folder), ""))
  if inside and os.path.isfile(path):
    raise UsageError(f"{flag}={path!r} lies in {folder_flag}={folder!r}, which is replaced "
                     "whole by the outputs; give another output folder")


def _hidden_temporary(path, suffix):
  parent = os.path.dirname(os.path.abspath(path))
  try:
    os.makedirs(parent, exist_ok=True)
    return tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(path)}.", suffix=suffix)
  except OSError as error:
    raise UsageError(f"{path!r} cannot be written: {error.strerror} ({parent!r}); give a "
                     "folder you can write") from None


@contextlib.contextmanager
def directory(path):
  """Yield a temporary folder next to `path`; on success it replaces `path` whole.

  On failure (of the block or of the replacement) the temporary folder is removed and
  any previous `path` is untouched; nothing hidden is left beside it.
  """
  tmp = _hidden_temporary(path, ".tmp")
  _plain_permissions(tmp, 0o777)
  try:
    yield tmp
    _swap_in(tmp, path)
  except BaseException:
    shutil.rmtree(tmp, ignore_errors=True)
    raise


def _swap_in(tmp, path):
  """Rename `tmp` to `path`. A folder cannot be renamed over a non-empty one, so a previous
  `path` is first moved into a hidden folder, removed once `tmp` is in place and put back
  if that fails; a read-only `path` is a UsageError."""
  if not os.path.exists(path):
    os.replace(tmp, path)
    return
  old = _hidden_temporary(path, ".old")
  previous = os.path.join(old, "previous")
  try:
    os.replace(path, previous)
  except OSError as error:
    os.rmdir(old)
    raise UsageError(f"{path!r} cannot be replaced: {error.strerror}; give a folder you can "
                     "write") from None
  try:
    os.replace(tmp, path)
  except BaseException:
    os.replace(previous, path)
    os.rmdir(old)
    raise
  shutil.rmtree(old, ignore_errors=True)
