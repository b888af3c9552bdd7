"""Progress: each kind of step timed on its own, the first (tracing) step left out."""

import pytest

from nat_tf import progress as progress_lib


@pytest.fixture
def clock(monkeypatch):
  """A settable monotonic clock for progress_lib."""
  now = [0.0]
  monkeypatch.setattr(progress_lib.time, "monotonic", lambda: now[0])
  return now


def _steps(progress, clock, kind, seconds, count):
  for _ in range(count):
    clock[0] += seconds
    progress.advance(kind)


def test_the_first_step_of_each_kind_traces_and_is_not_timed(clock):
  progress = progress_lib.Progress({"weights": 100}, {"weights": 0})
  _steps(progress, clock, "weights", 60.0, 1)  # tracing
  assert progress.rate("weights") is None and progress.eta() == "time left not known yet"
  _steps(progress, clock, "weights", 0.5, 9)
  assert progress.rate("weights") == pytest.approx(2.0)
  assert progress.eta() == "0:00:45 left"
  assert progress.line("weights") == "2.00 steps/s, 10/100 steps, 0:00:45 left"


def test_time_left_sums_each_kind_at_its_own_rate(clock):
  progress = progress_lib.Progress({"weights": 20, "policy": 10}, {"weights": 0, "policy": 0})
  _steps(progress, clock, "weights", 1.0, 10)
  assert progress.eta() == "at least 0:00:10 left (policy steps not timed yet)"
  _steps(progress, clock, "policy", 4.0, 5)
  assert progress.eta() == "0:00:30 left"  # 10 weight steps of 1 s, 5 policy steps of 4 s


def test_a_resumed_loop_counts_from_where_it_resumed(clock):
  progress = progress_lib.Progress({"train": 10}, {"train": 6}, untimed=0)
  _steps(progress, clock, "train", 3.0, 2)
  assert (progress.steps_done, progress.eta()) == (8, "0:00:06 left")


def test_a_kind_with_no_steps_left_needs_no_rate(clock):
  """A resumed search whose policy steps are all done, or a run of weight steps only
  (a warm-up), has a kind that never runs here: the time left is the other kind's."""
  progress = progress_lib.Progress({"weights": 4, "policy": 3}, {"weights": 0, "policy": 3})
  _steps(progress, clock, "weights", 2.0, 2)
  assert progress.eta() == "0:00:04 left"
