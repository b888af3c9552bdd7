"""Memory freed by tracing a step, handed back to the system once the step has run.

The first call of a traced step builds its graph, its gradient and grappler's
optimised copies: garbage of a few hundred MB that glibc's malloc keeps in its arenas
once freed. The steps' own tensors come from TensorFlow's CPU allocator (with oneDNN a
BFC pool) and never reuse it, so it stays resident and adds to every later peak:
0.1 GB of the weight step's 2.8 GB at batch 64 (BUILD_NOTES, issue 15).
`malloc_trim(0)` returns it. Without glibc (macOS, musl) this does nothing.
"""

import ctypes
import gc


def _malloc_trim():
  """glibc's malloc_trim from the running process's own symbols, or None."""
  try:
    return ctypes.CDLL(None).malloc_trim
  except (OSError, AttributeError):
    return None


_MALLOC_TRIM = _malloc_trim()


def release():
  """Collects Python's garbage, then hands the heap's free pages back (glibc only).
  Returns whether malloc could be asked to."""
  gc.collect()
  if _MALLOC_TRIM is None:
    return False
  _MALLOC_TRIM(0)
  return True
