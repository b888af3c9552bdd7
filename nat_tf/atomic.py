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
  foreign = sorted(set(os.listdir(path)) - set(names))
  if foreign:
    raise UsageError(f"{flag}={path!r} holds other files ({', '.join(foreign[:5])}); it would "
                     "be replaced whole: give a new or empty folder")


@contextlib.contextmanager
def directory(path):
  """Yield a temporary folder next to `path`; on success it replaces `path` whole.

  On failure the temporary folder is removed and any previous `path` is untouched.
  """
  parent = os.path.dirname(os.path.abspath(path))
  os.makedirs(parent, exist_ok=True)
  tmp = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
  _plain_permissions(tmp, 0o777)
  try:
    yield tmp
  except BaseException:
    shutil.rmtree(tmp, ignore_errors=True)
    raise
  old = None
  if os.path.exists(path):
    old = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(path)}.", suffix=".old")
    os.replace(path, os.path.join(old, "previous"))
  os.replace(tmp, path)
  if old:
    shutil.rmtree(old, ignore_errors=True)
