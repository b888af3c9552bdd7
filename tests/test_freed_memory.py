"""Memory freed by tracing goes back to the system, once per phase (issue 15)."""

import subprocess
import sys
import textwrap

import pytest
import tensorflow as tf

from nat_tf.training import freed_memory
from nat_tf.training import position
from nat_tf.training import step_loop

# In a process without TensorFlow: 200 MB of 100 kB blocks (below malloc's mmap
# threshold, so on the heap), written, then all but the last freed: the last is still held, so
# free() cannot shrink the heap from its top. The resident memory of each moment, in MB.
_HEAP_PROBE = textwrap.dedent("""
    import ctypes
    from nat_tf.training import freed_memory
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    def resident_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 1e6
    before = resident_mb()
    blocks = [libc.malloc(100_000) for _ in range(2000)]
    for block in blocks:
        ctypes.memset(block, 1, 100_000)
    for block in blocks[:-1]:
        libc.free(block)
    freed = resident_mb()
    released = freed_memory.release()
    print(before, freed, resident_mb(), released)
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_release_hands_the_heaps_free_pages_back():
  result = subprocess.run([sys.executable, "-c", _HEAP_PROBE], capture_output=True, text=True,
                          check=True)
  before, freed, after, released = result.stdout.split()
  before, freed, after = float(before), float(freed), float(after)
  assert released == "True"
  assert freed - before > 150, (before, freed)  # free() alone kept the pages
  assert after - before < 50, (before, freed, after)


class _Checkpointer:
  """What StepLoop asks of a checkpointer, without writing anything."""

  def __init__(self, state):
    self.state = state
    self.manager = type("Manager", (), {"latest_checkpoint": None})()

  def save(self):
    return "ckpt"


def test_the_loop_releases_after_the_first_step_of_each_phase_only(monkeypatch):
  steps, released = [], []
  monkeypatch.setattr(freed_memory, "release", lambda: released.append(tuple(steps)))

  def phase(name, first_epoch=0):
    def step(batches):  # pylint: disable=unused-argument
      steps.append(name)
      return {"finite": tf.constant(True)}
    return step_loop.Phase(name, 3, lambda epoch, skip: None, step, lambda m, s: None, 100,
                           lambda m: "", "lr", first_epoch)

  loop = step_loop.StepLoop(_Checkpointer(position.SearchState()),
                            [phase("weights"), phase("policy", first_epoch=1)], 3,
                            log_every=100, checkpoint_every=100, max_nonfinite=1)
  loop.run()
  assert len(steps) == 3 * 3 + 2 * 3
  assert released == [("weights",), ("weights",) * 6 + ("policy",)]
