"""Hand-crafted CIFAR networks (VGG16, ResNet20, ResNet56, MobileNetV2) as stacks of a block.

NAT transforms a hand-crafted network through its block, a genotype of the
catalogue (VGG, ResBlock, MobileNetV2; the reference code). Each network here is a
`macro.Skeleton` (a 3x3 stem, cell slots in stages, optional head convs, global
pooling, a linear classifier), so the cost model and the Keras cell that serve the
DARTS networks serve these too, and a transformed block genotype rebuilds the
whole network.

Mapping onto the real networks (depths and widths of the published CIFAR models;
BUILD_NOTES.md compares the parameter counts):
- A stage is `blocks` cells of width `channels`. When the stage halves the
  resolution, its first cell is the genotype's reduction cell (stride 2 on the
  edges leaving the cell inputs, the reference code); all others are normal cells.
- Cell inputs are adapted only where needed, so the original blocks carry no
  extra layers: an input is left as it is when its width and resolution fit,
  ReLU-Conv1x1-BN changes its width, a factorized reduce halves its resolution,
  and an input that only null edges read is not adapted at all. A transformed
  block that starts to read an input (NAT_ResBlock's skips from node 0) pays for
  its adaptation where a stage changes width.
- VGG16: the stem is its first conv; its other 12 convs are 6 VGG blocks of two
  convs, one block per stage (64, 128, 256, 512, 512) and a second one in the
  last stage (13 3x3 convs in all, as in VGG16, but 3/2/2/2/4 per stage instead of
  2/2/3/3/3, which 2-conv blocks cannot tile).
- ResNet20 / ResNet56: 3x3 stem of 16, then 3 stages of 3 / 9 ResBlocks of widths
  16, 32, 64 (18 / 54 convs + stem + classifier = 20 / 56 layers).
- MobileNetV2 (CIFAR variant: stride 1 in the stem and the 24-wide stage): stem 32,
  17 blocks in stages (16x1, 24x2, 32x3, 64x4, 96x3, 160x3, 320x1), a 1x1 conv to
  1280. The block genotype has no expansion ratio, so each block is as wide as
  its output (the real one widens 6x inside).
"""

import dataclasses
from typing import Tuple

from nat_tf.errors import UsageError
from nat_tf.space import catalogue
from nat_tf.space import macro
from nat_tf.space import ops


@dataclasses.dataclass(frozen=True)
class Stage:
  channels: int
  blocks: int
  reduction: bool  # the stage's first block halves the resolution


@dataclasses.dataclass(frozen=True)
class Layout:
  block: str  # the catalogue genotype that the published network is made of
  stem: int  # width of the 3x3 stem conv
  stages: Tuple[Stage, ...]
  head: int = 0  # width of a ReLU-Conv1x1-BN after the last block; 0: none


def _resnet(blocks_per_stage):
  return Layout("ResBlock", 16, (Stage(16, blocks_per_stage, False),
                                 Stage(32, blocks_per_stage, True),
                                 Stage(64, blocks_per_stage, True)))


LAYOUTS = {
    "vgg16": Layout("VGG", 64, (Stage(64, 1, False), Stage(128, 1, True), Stage(256, 1, True),
                                Stage(512, 1, True), Stage(512, 2, True))),
    "resnet20": _resnet(3),
    "resnet56": _resnet(9),
    "mobilenetv2": Layout("MobileNetV2", 32, (
        Stage(16, 1, False), Stage(24, 2, False), Stage(32, 3, True), Stage(64, 4, True),
        Stage(96, 3, False), Stage(160, 3, True), Stage(320, 1, False)), head=1280),
}

NAMES = tuple(LAYOUTS)


def _topology(genotype):
  """What a transformation keeps: every edge's endpoints and the concat of both cells."""
  return tuple((tuple((edge.src, edge.dst) for edge in cell.edges), cell.concat)
               for cell in genotype.cells.values())


def networks_of_block(genotype):
  """The hand-crafted networks built of `genotype`'s block: the networks whose catalogue
  block `genotype` is, or is a transformation of (the same edges and concat, other ops), so
  a derived genotype file or a published NAT output finds its network without a label."""
  return tuple(name for name, plan in LAYOUTS.items()
               if _topology(catalogue.get(plan.block)) == _topology(genotype))


def own_network(genotype):
  """The hand-crafted network that `genotype`'s block is first made for (ResBlock:
  resnet20), or None for a genotype of no hand-crafted network (DARTS-like cells)."""
  return next(iter(networks_of_block(genotype)), None)


def layout(name):
  if name not in LAYOUTS:
    raise UsageError(f"unknown hand-crafted network {name!r}; choose one of "
                     f"{', '.join(NAMES)}{ops.did_you_mean(name, NAMES)}")
  return LAYOUTS[name]


def _check_fits(name, plan, genotype):
  """A network is a stack of its own block: another genotype has other concat widths and
  edges, so the network built would be none of the published ones."""
  fits = networks_of_block(genotype)
  if name in fits:
    return
  choices = " or ".join(repr(n) for n in fits + ("darts",))
  raise UsageError(f"network={name!r} is a stack of {plan.block} blocks, and the genotype is "
                   f"neither {plan.block} nor a transformation of it (other edges or concat): "
                   f"choose {choices} instead, or leave it unset")


def _adaptation(read, c_in, c_out, halve):
  if not read:
    return macro.UNUSED
  if halve:
    return macro.REDUCE
  return macro.CONV if c_in != c_out else macro.IDENTITY


def _preprocess_rule(genotype):
  """The slots' preprocessing: adapt an input only if the cell reads it and it does not fit."""

  def kinds(c_prev_prev, c_prev, channels, reduction, reduction_prev):
    cell = genotype.reduce if reduction else genotype.normal
    return (_adaptation(cell.reads(0), c_prev_prev, channels, reduction_prev),
            _adaptation(cell.reads(1), c_prev, channels, False))

  return kinds


def skeleton(name, genotype, num_classes=10, image_size=32, in_channels=3):
  """The skeleton of hand-crafted network `name` built from block `genotype`; a UsageError
  if `genotype` is not that network's block (nor a transformation of it)."""
  plan = layout(name)
  _check_fits(name, plan, genotype)
  blocks = [(stage.channels, stage.reduction and index == 0)
            for stage in plan.stages for index in range(stage.blocks)]
  multipliers = (len(genotype.normal.concat), len(genotype.reduce.concat))
  stem = (macro.StemConv(in_channels, plan.stem, 3, 1, image_size),)
  cells = macro.stack(blocks, multipliers, plan.stem, plan.stem, False, image_size,
                      _preprocess_rule(genotype))
  last = cells[-1]
  head = (macro.StemConv(last.channels * last.multiplier, plan.head, 1, 1, last.out_size,
                         relu_before=True),) if plan.head else ()
  return macro.Skeleton(name, image_size, in_channels, num_classes, stem, (), cells,
                        auxiliary_index=None, auxiliary_pool_stride=0, auxiliary_final_bn=False,
                        head=head)
