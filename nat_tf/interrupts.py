"""SIGINT and SIGTERM as a clean stop: one line saying what was saved, no traceback.

`install` makes both signals raise errors.Interrupted, which cli.run prints as one
line. Inside `deferred()` (a training loop) a signal is only recorded: the loop
looks at `pending()` between steps, saves a checkpoint and raises Interrupted
itself, so a stop never lands in the middle of a step or a save. A second signal
while one is pending stops at once.
"""

import contextlib
import signal

from nat_tf.errors import Interrupted

SIGNALS = (signal.SIGINT, signal.SIGTERM)

_state = {"deferring": False, "pending": None}


def _handle(signum, frame):  # pylint: disable=unused-argument
  if _state["deferring"] and _state["pending"] is None:
    _state["pending"] = signum
    return
  raise Interrupted(signum, f"stopped by {signal.Signals(signum).name}")


def install():
  """Route SIGINT and SIGTERM to `_handle` (main thread only, as Python requires)."""
  for signum in SIGNALS:
    signal.signal(signum, _handle)


def pending():
  """The signal number received inside `deferred()`, or None."""
  return _state["pending"]


def name(signum):
  return signal.Signals(signum).name


@contextlib.contextmanager
def deferred():
  """Record signals instead of raising them while the block runs (see the module doc)."""
  _state["deferring"], _state["pending"] = True, None
  try:
    yield
  finally:
    _state["deferring"], _state["pending"] = False, None
