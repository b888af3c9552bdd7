"""Paired comparison of two architectures on the same held-out images: exact McNemar.

Candidates of one derivation are a few images apart on a held-out split of a few
hundred, so "more accurate" alone is often noise. Both architectures see the same
images with the same supernet weights, so only the images where they disagree carry
evidence: under "equally accurate" each such discordant image is a fair coin. The
exact McNemar test is the two-sided binomial test on those counts; it needs no
large-sample approximation, which matters when only a handful of images disagree.
Pure Python and numpy, so selection rules and reports can use it anywhere.
"""

import dataclasses
import math

import numpy as np


@dataclasses.dataclass(frozen=True)
class PairedTest:
  """`only_input`: images the input gets right and the candidate wrong; `only_candidate`
  the reverse; `p_value`: exact two-sided McNemar p of those counts over `examples`."""
  examples: int
  only_input: int
  only_candidate: int
  p_value: float

  @property
  def candidate_is_worse(self):
    return self.only_input > self.only_candidate

  def as_dict(self):
    return dataclasses.asdict(self)

  def __str__(self):
    return f"-{self.only_input}/+{self.only_candidate} p={self.p_value:.2g}"


def binomial_two_sided_p(successes, trials):
  """Exact two-sided p of `successes` in `trials` fair coin flips: twice the smaller
  tail, capped at 1 (the binomial with p = 1/2 is symmetric)."""
  if trials == 0:
    return 1.0
  tail = min(successes, trials - successes)
  ways = sum(math.comb(trials, k) for k in range(tail + 1))
  return min(1.0, 2 * ways / 2 ** trials)


def mcnemar(input_correct, candidate_correct):
  """The PairedTest of per-image correctness vectors (bool [N], same images, same order)."""
  first, second = np.asarray(input_correct, bool), np.asarray(candidate_correct, bool)
  if first.shape != second.shape or first.ndim != 1:
    raise ValueError(f"per-image correctness of different images: shapes {first.shape} and "
                     f"{second.shape}")
  only_input = int(np.count_nonzero(first & ~second))
  only_candidate = int(np.count_nonzero(second & ~first))
  return PairedTest(int(first.size), only_input, only_candidate,
                    binomial_two_sided_p(only_input, only_input + only_candidate))


def significantly_worse(test, alpha):
  """Whether the candidate of `test` is worse than the input at two-sided level `alpha`."""
  return test.candidate_is_worse and test.p_value < alpha
