"""NAS-Bench-201's cell space (Dong & Yang, ICLR 2020): its cells, its architecture
strings, a cell's row in the benchmark's table, and the exact cost of its network.

The benchmark trained every one of its 15,625 cells, so a cell a transformer outputs
can be scored by a table look-up instead of a training run; this module is the one
place that says which cell a string, a row or an op-id vector means, so that the
table reader, the Keras network and the TensorFlow environment agree.

A cell: node 0 is its input; nodes 1, 2 and 3 each sum one op applied to every earlier
node (the six edges of `EDGES`); node 3 is its output. It is held as a genotype.Cell
(project op names, edges in `EDGES` order, concat (3,)) so the op table, the cost
functions, the action spaces and the Keras layers take it as they are. The DARTS rules
of that type (two cell inputs, two edges into every node: genotype.validate, and the
Cell methods built on them such as num_nodes, pruned and dead_nodes) do not hold for
it; `check` is its validation.

The benchmark's string writes the op on edge j -> k as `op~j` in the k-th `|...|`
group: `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`, with the benchmark's op names
(`BENCHMARK_NAMES`). A cell's table row is `arch_index`: sum over edges e of
op_id[e] * 5**e, op ids in ops.NASBENCH201 order; the TensorFlow environment computes
the same formula, so it must stay exactly this.

The benchmark's network (its TinyNetwork): a 3x3 conv stem of C channels with BN; three
stages of `cells_per_stage` cells at C, 2C and 4C channels, joined by a stride-2 ResNet
basic block; BN and ReLU after the last cell, global average pooling and a linear
classifier. Costs follow cost.py's conventions.
"""

import dataclasses

import numpy as np

from nat_tf.errors import UsageError
from nat_tf.errors import check_integer
from nat_tf.space import cost
from nat_tf.space import genotype
from nat_tf.space import ops

EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))  # (source, target), string order
NUM_EDGES = len(EDGES)
OUTPUT_NODE = 3
OP_LIST = ops.NASBENCH201
NUM_ARCHS = len(OP_LIST) ** NUM_EDGES
_INDEX_WEIGHTS = len(OP_LIST) ** np.arange(NUM_EDGES, dtype=np.int64)

# This project's op names -> the benchmark's, and back.
BENCHMARK_NAMES = {"avg_pool_3x3": "avg_pool_3x3", ops.SKIP: "skip_connect",
                   "conv_1x1": "nor_conv_1x1", "conv_3x3": "nor_conv_3x3", ops.NULL: "none"}
PROJECT_NAMES = {benchmark: project for project, benchmark in BENCHMARK_NAMES.items()}

# Far above the longest benchmark string (95 characters): a pasted file or a runaway
# value is refused before it is split, and error messages stay one line.
MAX_STRING_LENGTH = 1000
_FORM = "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|"

RESNET = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"

NUM_STAGES = 3


def parse(text):
  """The Cell of a benchmark architecture string.

  Strict (no spaces, no other separators, every `op~j` in its place), so that
  to_string(parse(text)) == text and each table key is one cell; anything else is a
  UsageError naming the string and what is wrong with it.
  """
  if not isinstance(text, str):
    raise UsageError(f"a NAS-Bench-201 architecture is a string like {RESNET!r}, got {text!r}")
  if len(text) > MAX_STRING_LENGTH:
    raise UsageError(f"NAS-Bench-201 architecture {text[:60]!r}... is {len(text)} characters "
                     f"long; a benchmark string of the form {_FORM} is far shorter than "
                     f"{MAX_STRING_LENGTH}")
  if not text:
    _refuse(text, "the string is empty")
  groups = text.split("+")
  if len(groups) != OUTPUT_NODE:
    _refuse(text, f"it has {len(groups)} '+'-separated group(s), not {OUTPUT_NODE} (one per "
                  "node 1, 2, 3)")
  project_ops = []
  for node, group in enumerate(groups, start=1):
    project_ops += _parse_group(text, node, group)
  return _cell(project_ops)


def _parse_group(text, node, group):
  """Project op names of the edges into `node`, from its `|op~0|...|` group."""
  if len(group) < 2 or group[0] != "|" or group[-1] != "|":
    _refuse(text, f"group {node} {group!r} must start and end with '|'")
  tokens = group[1:-1].split("|")
  if len(tokens) != node:
    _refuse(text, f"group {node} {group!r} has {len(tokens)} edge(s); node {node} has {node} "
                  "(one from each earlier node)")
  return [_parse_edge(text, node, source, token) for source, token in enumerate(tokens)]


def _parse_edge(text, node, source, token):
  name, tilde, source_text = token.partition("~")
  if not tilde or source_text != str(source):
    _refuse(text, f"edge {token!r} of group {node} must read 'op~{source}' (the op on edge "
                  f"{source} -> {node})")
  if name not in PROJECT_NAMES:
    _refuse(text, f"unknown op {name!r} in {token!r}; the benchmark's ops are "
                  f"{list(PROJECT_NAMES)}{ops.did_you_mean(name, PROJECT_NAMES)}")
  return PROJECT_NAMES[name]


def _refuse(text, problem):
  raise UsageError(f"NAS-Bench-201 architecture {text!r}: {problem}; the form is {_FORM}")


def to_string(cell):
  """The benchmark's string of a cell (parse's inverse)."""
  groups = {}
  for edge in check(cell).edges:
    groups.setdefault(edge.dst, []).append(f"{BENCHMARK_NAMES[edge.op]}~{edge.src}")
  return "+".join(f"|{'|'.join(tokens)}|" for tokens in groups.values())


def _cell(project_ops):
  return genotype.make_cell([(op, src, dst) for op, (src, dst) in zip(project_ops, EDGES)],
                            concat=(OUTPUT_NODE,))


def check(cell):
  """`cell` if it is a NAS-Bench-201 cell, else a UsageError saying how it differs.

  The Cell type also holds DARTS cells, which the cost model and the network here
  would silently misread, hence a check at every entry point.
  """
  if not isinstance(cell, genotype.Cell):
    raise UsageError(f"{cell!r} is not a cell; build a NAS-Bench-201 cell with "
                     "nasbench201.parse, lookup or from_op_ids")
  edges = tuple((edge.src, edge.dst) for edge in cell.edges)
  if edges != EDGES or cell.concat != (OUTPUT_NODE,):
    raise UsageError(f"not a NAS-Bench-201 cell: edges {edges}, output nodes {cell.concat}; "
                     f"a NAS-Bench-201 cell has the edges {EDGES} in that order and outputs "
                     f"node {OUTPUT_NODE} (build it with nasbench201.parse or from_op_ids)")
  for (src, dst), op in zip(EDGES, cell.ops):
    if op not in OP_LIST:
      raise UsageError(f"not a NAS-Bench-201 cell: edge {src} -> {dst} holds {op!r}; its ops "
                       f"are {list(OP_LIST)}{ops.did_you_mean(op, OP_LIST)}")
  return cell


def op_ids(cell):
  """int32 [6]: the op id (in OP_LIST) on each edge of a cell, in EDGES order."""
  return np.array([OP_LIST.index(op) for op in check(cell).ops], np.int32)


def from_op_ids(ids):
  """The cell holding op ids `ids` ([6], OP_LIST order) on its edges."""
  ids = _checked_op_ids(ids)
  if ids.shape != (NUM_EDGES,):
    raise UsageError(f"op ids of shape {ids.shape}: one cell is {NUM_EDGES} op ids")
  return _cell([OP_LIST[op_id] for op_id in ids])


def _checked_op_ids(ids):
  ids = np.asarray(ids)
  if ids.ndim == 0 or ids.shape[-1] != NUM_EDGES or not np.issubdtype(ids.dtype, np.integer):
    raise UsageError(f"op ids of shape {ids.shape} and dtype {ids.dtype}: a NAS-Bench-201 "
                     f"cell is {NUM_EDGES} integer op ids, one per edge in nasbench201.EDGES "
                     f"order (an array of shape [..., {NUM_EDGES}])")
  outside = ids[(ids < 0) | (ids >= len(OP_LIST))]
  if outside.size:
    raise UsageError(f"op id {outside[0]} is outside 0..{len(OP_LIST) - 1}; ids index "
                     f"{list(OP_LIST)}")
  return ids


def arch_index(ids):
  """The table row of op ids [..., 6]: sum over edges e of ids[..., e] * 5**e (int64)."""
  return (_checked_op_ids(ids).astype(np.int64) * _INDEX_WEIGHTS).sum(axis=-1)


def from_index(index):
  """The op ids (int32 [..., 6]) of table row(s) `index`: arch_index's inverse."""
  index = np.asarray(index)
  if not np.issubdtype(index.dtype, np.integer):
    raise UsageError(f"table index of dtype {index.dtype}: rows are integers 0..{NUM_ARCHS - 1}")
  outside = index[(index < 0) | (index >= NUM_ARCHS)]
  if outside.size:
    raise UsageError(f"table index {outside[0]} is outside 0..{NUM_ARCHS - 1}")
  return (index[..., None] // _INDEX_WEIGHTS % len(OP_LIST)).astype(np.int32)


def _uniform(op):
  return to_string(_cell([op] * NUM_EDGES))


# Cells a user can give by name: the ResNet-like cell and each op on every edge.
NAMED = {"resnet": RESNET, **{f"all_{op}": _uniform(op) for op in OP_LIST}}


def lookup(name_or_string):
  """The cell of a name in NAMED or of a benchmark string."""
  text = name_or_string
  if isinstance(text, str) and text and "|" not in text and len(text) <= MAX_STRING_LENGTH:
    if text not in NAMED:
      raise UsageError(f"unknown NAS-Bench-201 cell {text!r}; give one of {sorted(NAMED)} or a "
                       f"benchmark string such as {RESNET!r}{ops.did_you_mean(text, NAMED)}")
    text = NAMED[text]
  return parse(text)


@dataclasses.dataclass(frozen=True)
class Skeleton:
  """The benchmark's network at one sizing, shared by the cost model here and the Keras
  network (nn/nasbench201_network.py) so that the two cannot disagree on its shape."""

  num_classes: int
  channels: int
  cells_per_stage: int
  image_size: int
  in_channels: int

  @property
  def stages(self):
    """(width, spatial size) of each stage's cells: the width doubles and the size halves
    at each residual block."""
    return tuple((self.channels * 2 ** stage, self.image_size // 2 ** stage)
                 for stage in range(NUM_STAGES))

  @property
  def classifier_in(self):
    return self.stages[-1][0]


# (lowest, highest) of each sizing argument: the benchmark's is C=16, 5 cells a stage,
# 32x32x3 images; the highest values are far beyond it and keep a typo from asking for
# a network no machine holds.
_BOUNDS = {"num_classes": (1, 100_000), "channels": (1, 1024), "cells_per_stage": (1, 100),
           "image_size": (4, 1024), "in_channels": (1, 64)}


def skeleton(num_classes=10, channels=16, cells_per_stage=5, image_size=32, in_channels=3):
  """The Skeleton of a sizing (defaults: the benchmark's CIFAR-10 network), checked."""
  sizing = {"num_classes": num_classes, "channels": channels,
            "cells_per_stage": cells_per_stage, "image_size": image_size,
            "in_channels": in_channels}
  for name, value in sizing.items():
    lowest, highest = _BOUNDS[name]
    check_integer(name, value, lowest)
    if value > highest:
      raise UsageError(f"{name}={value} is above {highest}, the most a NAS-Bench-201 network "
                       "is built with here")
  if image_size % 2 ** (NUM_STAGES - 1):
    raise UsageError(f"image_size={image_size} must be a multiple of 4: each of the two "
                     "residual blocks halves it, and their shortcut (2x2 average pooling) "
                     "and main path (stride-2 conv) agree on even sizes only")
  return Skeleton(**sizing)


def _residual_block_cost(c_in, c_out, in_size):
  """The benchmark's stride-2 ResNet basic block: ReLU-Conv3x3(stride 2)-BN,
  ReLU-Conv3x3-BN, and a shortcut of 2x2 average pooling then a bias-free 1x1 conv
  without BN."""
  out_size = in_size // 2
  return (cost.conv(c_in, c_out, 3, 2, in_size) + cost.conv(c_out, c_out, 3, 1, out_size)
          + cost.conv(c_in, c_out, 1, 1, out_size, bn=False))


def _cells_cost(cell, plan):
  """Every cell's edge ops, cell by cell: each edge is its op at the stage's width, stride 1."""
  check(cell)
  return cost.total(cost.op_cost(op, width, 1, size)
                    for width, size in plan.stages for _ in range(plan.cells_per_stage)
                    for op in cell.ops)


def network_cost(cell, **sizing):
  """cost.NetworkCost of the benchmark's network around `cell`; `sizing`: `skeleton`'s
  arguments. The network has no auxiliary head, so those two fields are 0."""
  plan = skeleton(**sizing)
  width, size = plan.stages[0]
  body = cost.conv(plan.in_channels, width, 3, 1, size)  # the stem
  body += cost.total(_residual_block_cost(c_in, c_out, in_size)
                     for (c_in, in_size), (c_out, _) in zip(plan.stages, plan.stages[1:]))
  body += cost.batch_norm(plan.classifier_in) + cost.linear(plan.classifier_in, plan.num_classes)
  body += _cells_cost(cell, plan)
  return cost.NetworkCost(body.params, body.madds, 0, 0)


def _checked_metric(metric):
  if metric not in cost.COST_METRICS:
    raise UsageError(f"cost metric {metric!r} is not one of {list(cost.COST_METRICS)}"
                     f"{ops.did_you_mean(metric, cost.COST_METRICS)}")
  return metric


def cell_op_cost_table(op_list, metric, **sizing):
  """[op id of `op_list`]: that op's `metric` ('params' or 'madds') on one edge position,
  summed over every cell of the network; `sizing`: `skeleton`'s arguments.

  Every edge is an op C -> C at stride 1, so the cells' op cost of a cell is the sum of
  this table over its six op ids: a gather in the TensorFlow environment.
  """
  plan, metric = skeleton(**sizing), _checked_metric(metric)
  return [sum(getattr(cost.op_cost(op, width, 1, size), metric) * plan.cells_per_stage
              for width, size in plan.stages)
          for op in ops.op_list(op_list)]


def cells_op_cost(cell, metric, **sizing):
  """The `metric` of every cell's edge ops (no stem, residual blocks or classifier),
  counted cell by cell; `sizing`: `skeleton`'s arguments."""
  return getattr(_cells_cost(cell, skeleton(**sizing)), _checked_metric(metric))
