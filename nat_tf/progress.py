"""Steps per second and time left of a long loop, for its log lines and TensorBoard.

A resumed run counts its rate from where it resumed, so the time left is not
skewed by the steps a previous process took.
"""

import time


class Progress:
  """`advance()` once per step; `rate` and `eta()` read the steps since construction."""

  def __init__(self, total_steps, done=0):
    self.total, self.done = total_steps, done
    self._start, self._start_done = time.time(), done

  def advance(self):
    self.done += 1

  @property
  def rate(self):
    """Steps per second since this object was made."""
    return (self.done - self._start_done) / max(time.time() - self._start, 1e-9)

  def eta(self):
    """Time left at the current rate, as H:MM:SS (days are counted in the hours)."""
    seconds = int((self.total - self.done) / max(self.rate, 1e-9))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
