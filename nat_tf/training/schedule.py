"""The learning-rate schedule that the search's weight phase and train_final share.

Here rather than beside the supernet's steps so that training from scratch does
not import the search loop.
"""

import math


def learning_rate(epoch, epochs, base, minimum):
  """Cosine annealing from `base` to `minimum` over `epochs` (minimum = base: constant,
  as the reference's lr 0.01 / lr_min 0.01)."""
  return minimum + (base - minimum) * (1 + math.cos(math.pi * epoch / max(epochs, 1))) / 2
