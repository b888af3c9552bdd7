"""Steps per second and time left of a long loop, for its log lines and TensorBoard.

A loop may take several kinds of step that cost very differently (a search's weight
steps and its policy steps, which score many architectures each), so each kind is
timed on its own and the time left is the sum over kinds of the steps left times
their measured time. The time since the previous step, of any kind, is charged to
the step just taken, so what happens between steps (a new epoch's data, checkpoints)
is counted with the steps it comes with. The first `untimed` steps of each kind in
this process are not timed: the first call of a traced step function traces it,
which takes far longer than a step and would make the first estimates wildly long.
A resumed run counts from where it resumed, so the time left is not skewed by the
steps a previous process took.
"""

import time


class Progress:
  """`advance(kind)` once per step of `kind`; `rate(kind)` and `eta()` read the timed steps.

  totals, done: {kind: steps} of the whole loop and already taken (e.g. restored).
  """

  def __init__(self, totals, done, untimed=1):
    self.totals, self.done = dict(totals), dict(done)
    self._untimed = {kind: untimed for kind in totals}
    self._seconds = {kind: 0.0 for kind in totals}
    self._timed = {kind: 0 for kind in totals}
    self._last = time.monotonic()

  def advance(self, kind):
    now = time.monotonic()
    if self._untimed[kind]:
      self._untimed[kind] -= 1
    else:
      self._seconds[kind] += now - self._last
      self._timed[kind] += 1
    self._last = now
    self.done[kind] += 1

  @property
  def total(self):
    return sum(self.totals.values())

  @property
  def steps_done(self):
    return sum(self.done.values())

  def rate(self, kind):
    """Steps of `kind` per second over its timed steps; None before one was timed."""
    return self._timed[kind] / max(self._seconds[kind], 1e-9) if self._timed[kind] else None

  def line(self, kind):
    """'<rate> steps/s, <done>/<total> steps, <time left>': the end of a log line after a
    step of `kind`."""
    rate = self.rate(kind)
    speed = "rate not timed yet" if rate is None else f"{rate:.2f} steps/s"
    return f"{speed}, {self.steps_done}/{self.total} steps, {self.eta()}"

  def eta(self):
    """Time left as H:MM:SS (days counted in the hours); while a kind with steps left has
    none timed yet, a lower bound that says so."""
    left = {kind: max(self.totals[kind] - self.done[kind], 0) for kind in self.totals}
    untimed = [kind for kind in left if left[kind] and self.rate(kind) is None]
    seconds = sum(left[kind] / self.rate(kind) for kind in left
                  if left[kind] and kind not in untimed)
    if not untimed:
      return f"{_clock(seconds)} left"
    if not seconds:
      return "time left not known yet"
    return f"at least {_clock(seconds)} left ({' and '.join(untimed)} steps not timed yet)"


def _clock(seconds):
  seconds = round(seconds)
  return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
