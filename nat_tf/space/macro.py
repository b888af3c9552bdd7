"""Macro skeletons: where the cells of a network sit and how wide they are.

A skeleton is plain data shared by the analytic cost model (`cost.py`) and the
Keras builders (`nat_tf/nn`), so the two can never disagree about the network's
shape. The DARTS CIFAR and ImageNet skeletons follow the reference code: a 3C
stem (CIFAR) or a three-conv stride-8 stem (ImageNet), reduction cells at L//3
and 2L//3 doubling the width, an auxiliary head after cell 2L//3, global pooling
and a linear classifier.

The layout functions live here too: `edge_stride` and `node_size` (where in a cell
each edge runs) and `skeleton` (the DARTS skeleton of a dataset), which the cost
model, the Keras cells and the cell graphs all read, so none of the latter two
imports the cost model for them.
"""

import dataclasses
from typing import Optional, Tuple

from nat_tf.errors import UsageError

# How a cell input is brought to the cell's width and resolution (CellSlot.preprocess).
IDENTITY = "identity"  # already right
CONV = "conv"  # ReLU -> Conv1x1 -> BN: a change of width
REDUCE = "reduce"  # factorized reduce: the input is twice the cell's resolution
UNUSED = "unused"  # only null edges leave it: no weights, never read

# Image shape and class count of each dataset, over the skeletons' defaults.
DATASETS = {"cifar10": {}, "cifar100": {"num_classes": 100},
            "digits": {"image_size": 8, "in_channels": 1},
            "mnist5k": {"image_size": 28, "in_channels": 1}}


@dataclasses.dataclass(frozen=True)
class StemConv:
  """Conv(k, stride, pad k//2, no bias) -> BN, optionally preceded by ReLU."""
  c_in: int
  c_out: int
  kernel: int
  stride: int
  in_size: int
  relu_before: bool = False

  @property
  def out_size(self):
    return out_size(self.in_size, self.stride)


@dataclasses.dataclass(frozen=True)
class CellSlot:
  """One cell: its inputs' widths, its op width C and its output spatial size."""
  index: int
  c_prev_prev: int
  c_prev: int
  channels: int
  reduction: bool
  reduction_prev: bool
  in_size: int  # spatial size of s1, the previous cell's output
  multiplier: int  # nodes concatenated into the output: width = multiplier * channels
  # (s0, s1) preprocessing kinds; left empty, the DARTS rule: s0 is factorized-reduced
  # after a reduction cell, otherwise both go through ReLU-Conv1x1-BN.
  preprocess: Tuple[str, str] = ()

  def __post_init__(self):
    if not self.preprocess:
      object.__setattr__(self, "preprocess", (REDUCE if self.reduction_prev else CONV, CONV))

  @property
  def out_size(self):
    return out_size(self.in_size, 2 if self.reduction else 1)


@dataclasses.dataclass(frozen=True)
class Skeleton:
  """A whole network: stems, cells, auxiliary head position, classifier."""
  name: str
  image_size: int
  in_channels: int
  num_classes: int
  stem0: Tuple[StemConv, ...]
  stem1: Tuple[StemConv, ...]  # empty: s1 = s0 (CIFAR)
  cells: Tuple[CellSlot, ...]
  auxiliary_index: Optional[int]  # None: the network has no auxiliary head
  auxiliary_pool_stride: int  # 3 on CIFAR (8x8 -> 2x2), 2 on ImageNet (7x7 -> 2x2)
  auxiliary_final_bn: bool  # DARTS left the BN after the 768-wide conv out on ImageNet
  head: Tuple[StemConv, ...] = ()  # convs between the last cell and the pooling (MobileNetV2)

  @property
  def auxiliary_in(self):
    """(channels, spatial size) entering the auxiliary head."""
    slot = self.cells[self.auxiliary_index]
    return slot.channels * slot.multiplier, slot.out_size

  @property
  def classifier_in(self):
    if self.head:
      return self.head[-1].c_out
    return self.cells[-1].channels * self.cells[-1].multiplier


def out_size(size, stride):
  """Spatial size after a 'same'-padded op of this stride (odd kernels, pad k//2)."""
  return (size - 1) // stride + 1


def edge_stride(reduction, src):
  """Edges leaving a reduction cell's inputs (nodes 0 and 1) have stride 2."""
  return 2 if reduction and src < 2 else 1


def node_size(slot, node):
  """Spatial size of a cell's node: its inputs at in_size, the nodes it computes at out_size.

  The difference matters in reduction cells, whose stride-1 edges between computed
  nodes run at the reduced size.
  """
  return slot.in_size if node < 2 else slot.out_size


def reduction_indices(layers):
  return (layers // 3, 2 * layers // 3)


def stack(blocks, multipliers, c_stem_pp, c_stem_p, reduction_prev, size, preprocess=None):
  """Cell slots for `blocks`, a sequence of (width C, reduction) pairs.

  Cell k reads the outputs of cells k-2 and k-1 (both the stem's at first), as in
  DARTS. `preprocess(c_prev_prev, c_prev, channels, reduction, reduction_prev)`
  gives each slot's preprocessing kinds; without it, the DARTS rule.
  """
  cells = []
  c_pp, c_p = c_stem_pp, c_stem_p
  for index, (channels, reduction) in enumerate(blocks):
    multiplier = multipliers[1] if reduction else multipliers[0]
    kinds = preprocess(c_pp, c_p, channels, reduction, reduction_prev) if preprocess else ()
    slot = CellSlot(index, c_pp, c_p, channels, reduction, reduction_prev, size, multiplier, kinds)
    cells.append(slot)
    reduction_prev = reduction
    c_pp, c_p = c_p, multiplier * channels
    size = slot.out_size
  return tuple(cells)


def _darts_blocks(layers, channels):
  """(width, reduction) of each DARTS cell: reductions at L//3 and 2L//3 double the width."""
  blocks = []
  for index in range(layers):
    reduction = index in reduction_indices(layers)
    if reduction:
      channels *= 2
    blocks.append((channels, reduction))
  return blocks


# Bounds on a skeleton's size, checked before anything is laid out: ten times the widest and
# deepest DARTS-style networks in use, far beyond what fits a machine's memory, so that a
# mistyped --layers or --channels ends in one error line instead of an endless loop or a
# meaningless count.
MAX_CHANNELS = 4096
MAX_LAYERS = 1000


def _check(channels, layers, multipliers):
  if channels > MAX_CHANNELS:
    raise UsageError(f"channels={channels}: the initial width C is at most {MAX_CHANNELS}")
  if layers > MAX_LAYERS:
    raise UsageError(f"layers={layers}: a network has at most {MAX_LAYERS} cells")
  if channels < 2 or channels % 2:
    raise UsageError(f"channels={channels}: the initial width C must be an even number >= 2 "
                     "(factorized reduce splits it in halves)")
  if layers < 3:
    raise UsageError(f"layers={layers}: a network needs at least 3 cells (reductions at "
                     "layers//3 and 2*layers//3)")
  if min(multipliers) < 1:
    raise UsageError(f"multipliers={multipliers}: a cell must concatenate at least one node")


def cifar(channels=36, layers=20, multipliers=(4, 4), num_classes=10, image_size=32, in_channels=3,
          stem_multiplier=3):
  """DARTS NetworkCIFAR; also used for the bundled 8x8 digits and 28x28 mnist5k.

  `multipliers` are the concat lengths of the (normal, reduce) cells.
  """
  _check(channels, layers, multipliers)
  c_stem = stem_multiplier * channels
  stem = (StemConv(in_channels, c_stem, 3, 1, image_size),)
  cells = stack(_darts_blocks(layers, channels), multipliers, c_stem, c_stem, False, image_size)
  return Skeleton("cifar", image_size, in_channels, num_classes, stem, (), cells,
                  2 * layers // 3, 3, True)


def imagenet(channels=48, layers=14, multipliers=(4, 4), num_classes=1000, image_size=224,
             in_channels=3):
  """DARTS NetworkImageNet: stem0 (two stride-2 convs) and stem1 (one more)."""
  _check(channels, layers, multipliers)
  half = channels // 2
  stem0 = (StemConv(in_channels, half, 3, 2, image_size),
           StemConv(half, channels, 3, 2, out_size(image_size, 2), relu_before=True))
  stem1 = (StemConv(channels, channels, 3, 2, stem0[-1].out_size, relu_before=True),)
  cells = stack(_darts_blocks(layers, channels), multipliers, channels, channels, True,
                stem1[-1].out_size)
  return Skeleton("imagenet", image_size, in_channels, num_classes, stem0, stem1, cells,
                  2 * layers // 3, 2, False)


def skeleton(genotype, dataset="cifar10", channels=None, layers=None, **kwargs):
  """The DARTS skeleton of `dataset` sized for `genotype`'s concat lengths."""
  multipliers = (len(genotype.normal.concat), len(genotype.reduce.concat))
  if dataset == "imagenet":
    return imagenet(channels or 48, layers or 14, multipliers, **kwargs)
  return cifar(channels or 36, layers or 20, multipliers, **{**cifar_like(dataset), **kwargs})


def cifar_like(dataset):
  """Image shape and classes of a dataset laid out on a CIFAR skeleton."""
  if dataset not in DATASETS:
    raise UsageError(f"unknown dataset {dataset!r} for the cost model; choose one of "
                     f"{', '.join(DATASETS)} or imagenet")
  return DATASETS[dataset]
