"""over_seeds: sample spread, Student's t intervals, and the non-inferiority verdict."""

import math

import numpy as np
import pytest

from nat_tf.analysis import over_seeds


def test_the_spread_is_the_sample_deviation_with_a_t_interval():
  summary = over_seeds.spread([0.96, 0.97, 0.98])
  assert summary["mean"] == pytest.approx(0.97)
  assert summary["std"] == pytest.approx(0.01)  # ddof 1: the population one is 0.00816
  half = 4.302653 * 0.01 / math.sqrt(3)  # t(0.975, 2 degrees of freedom)
  assert summary["ci95"] == pytest.approx([0.97 - half, 0.97 + half])
  assert summary["values"] == [0.96, 0.97, 0.98]


def test_one_seed_has_no_interval_and_no_verdict():
  summary = over_seeds.spread([0.5])
  assert (summary["std"], summary["ci95"]) == (0.0, None)
  assert over_seeds.verdict(summary, 0.005) == over_seeds.INCONCLUSIVE
  with pytest.raises(ValueError, match="at least one"):
    over_seeds.spread([])


@pytest.mark.parametrize("differences, expected", [
    ([0.001, -0.001, 0.002], over_seeds.NON_INFERIOR),   # the interval is above -0.005
    ([-0.02, -0.021, -0.019], over_seeds.INFERIOR),      # the interval is below -0.005
    ([0.01, -0.02, 0.0], over_seeds.INCONCLUSIVE),       # it straddles -0.005
    ([0.0, 0.0, 0.0], over_seeds.NON_INFERIOR),          # a method that kept the input
])
def test_the_verdict_reads_the_whole_interval_against_the_margin(differences, expected):
  assert over_seeds.verdict(over_seeds.spread(differences), 0.005) == expected


def test_the_seeds_to_resolve_a_margin_are_the_fewest_whose_interval_fits_it():
  needed = over_seeds.seeds_to_resolve(0.005, 0.005)  # a paired SD of 0.5 points, margin 0.5
  assert needed == 7
  for seeds, fits in ((needed - 1, False), (needed, True)):
    half = over_seeds.t_quantile(seeds) * 0.005 / np.sqrt(seeds)
    assert (half < 0.005) == fits
  assert over_seeds.seeds_to_resolve(0.5, 0.005) is None
