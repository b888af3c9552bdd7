"""Atomic writes: a reader sees the old file or the new one, never half of one.

Everything a run leaves behind (status, reports, genotypes, exports) goes through
here, so an interrupted run or a failing export cannot leave a corrupt output.
"""

import contextlib
import json
import os
import shutil
import tempfile


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
    os.replace(tmp, path)
  except BaseException:
    with contextlib.suppress(FileNotFoundError):
      os.remove(tmp)
    raise


def write_text(path, text):
  write_bytes(path, text.encode("utf-8"))


def write_json(path, data):
  write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n")


@contextlib.contextmanager
def directory(path):
  """Yield a temporary folder next to `path`; on success it replaces `path` whole.

  On failure the temporary folder is removed and any previous `path` is untouched.
  """
  parent = os.path.dirname(os.path.abspath(path))
  os.makedirs(parent, exist_ok=True)
  tmp = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
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
