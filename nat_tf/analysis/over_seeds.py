"""A figure over seeds, summarised so that a reader can tell a difference from noise.

A study trains each architecture on a handful of seeds, so a mean alone claims too much
and a population standard deviation (ddof 0) understates the spread. Every summary here
carries the sample standard deviation (ddof 1) and the 95% confidence interval of the
mean from Student's t, which is what three to ten seeds allow. A paired difference
(method minus input, trained on the same seeds) is judged against a non-inferiority
margin fixed before the run: non-inferior when the whole interval lies above -margin,
inferior when it lies below, inconclusive otherwise. One seed gives no interval, so
no verdict either.
"""

import math

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
NON_INFERIOR, INFERIOR, INCONCLUSIVE = "non-inferior", "inferior", "inconclusive"


def t_quantile(seeds):
  """The two-sided 95% quantile of Student's t for a mean of `seeds` values."""
  return float(stats.t.ppf((1 + CONFIDENCE) / 2, seeds - 1))


def spread(series):
  """{'mean', 'std' (sample; 0 for one value), 'ci95' ([low, high] of the mean; None for
  one value), 'values'} of a per-seed series."""
  values = np.asarray(series, dtype=float)
  if values.size == 0:
    raise ValueError("no values to summarise: a series over seeds needs at least one")
  mean = float(values.mean())
  if values.size == 1:
    return {"mean": mean, "std": 0.0, "ci95": None, "values": values.tolist()}
  std = float(values.std(ddof=1))
  half = t_quantile(values.size) * std / math.sqrt(values.size)
  return {"mean": mean, "std": std, "ci95": [mean - half, mean + half], "values": values.tolist()}


def verdict(differences, margin):
  """NON_INFERIOR, INFERIOR or INCONCLUSIVE for the spread of paired differences
  `differences` (method minus input) against `margin` (> 0, in the figure's units)."""
  if differences["ci95"] is None:
    return INCONCLUSIVE
  low, high = differences["ci95"]
  if low > -margin:
    return NON_INFERIOR
  if high < -margin:
    return INFERIOR
  return INCONCLUSIVE


def seeds_to_resolve(std, margin, most=100):
  """The fewest seeds whose 95% interval of a mean with sample deviation `std` is
  narrower on each side than `margin`: what a difference at zero needs to be called
  non-inferior. None when even `most` seeds are too few."""
  for seeds in range(2, most + 1):
    if t_quantile(seeds) * std / math.sqrt(seeds) < margin:
      return seeds
  return None
