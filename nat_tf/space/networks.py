"""The networks a genotype is laid out on, by name: DARTS's or a hand-crafted one.

DARTS's skeleton (`macro.skeleton`) is sized by its width and depth; a hand-crafted
network (`handcrafted.py`) fixes both itself. This is its own module because it needs
both of those, and `handcrafted` is built from `macro`.
"""

from nat_tf.errors import UsageError
from nat_tf.space import handcrafted
from nat_tf.space import macro

DARTS = "darts"
NAMES = (DARTS,) + handcrafted.NAMES


def skeleton(genotype, network=DARTS, dataset="cifar10", channels=None, layers=None):
  """The skeleton of `network`: DARTS sized by channels and layers, or a hand-crafted one."""
  if network == DARTS:
    return macro.skeleton(genotype, dataset, channels, layers)
  if channels or layers:
    raise UsageError(f"channels={channels}, layers={layers}: the {network} network has fixed "
                     "widths and depth; leave them unset")
  if dataset == "imagenet":
    raise UsageError(f"the hand-crafted {network} network is laid out for CIFAR-sized images; "
                     f"choose one of {', '.join(macro.DATASETS)}")
  return handcrafted.skeleton(network, genotype, **macro.cifar_like(dataset))
