"""The weight-sharing supernet (the reference code): every architecture of the space in one model.

Each cell holds weights for every (edge position (f, t), op) pair, as the
reference does, with batch-norm without affine parameters and pooling followed by
batch-norm. The architecture arrives as an int32 tensor (`nat_tf.nn.architecture`),
so one traced function serves every architecture:

- the weights of one op for all positions of one stride are stacked in one
  variable, and an edge gathers the row of its position;
- an edge's input is picked among the node states by a `tf.switch_case` with
  identity branches, and its op by a `tf.switch_case` over the op list (two
  stride groups in reduction cells), whose branches call `functional.apply_op`.
Branches capture few tensors, which keeps tracing linear in the number of edges
(one switch over every (position, op) layer traces quadratically and took minutes).

The cell output keeps a fixed width N*C: with a loose-end op list, nodes used as
an edge source are multiplied by zero (a null edge still marks its source as
used). The macro layout is the DARTS CIFAR skeleton of `nat_tf.space.macro`.
"""

import gin
import numpy as np
import tensorflow as tf

from nat_tf.errors import UsageError
from nat_tf.nn import architecture as arch_lib
from nat_tf.nn import functional as fn
from nat_tf.nn import recompute as recompute_lib
from nat_tf.space import macro
from nat_tf.space import ops


def _select(states, index):
  """states[index] for a scalar index tensor, without copying the chosen state.

  The gradient is written out because the automatic one of a switch gives each state
  not taken zeros of a static shape, which TensorFlow's constant folding turns into
  constants kept in the graph: 0.7 GB at batch 64. Here they are ZerosLike ops.
  """
  if len(states) == 1:
    return states[0]

  @tf.custom_gradient
  def select(index, *states):
    index = tf.identity(index)  # this graph's copy: the gradient may be built in a branch

    def grad(upstream):
      zeros = tf.raw_ops.ZerosLike(x=upstream)
      return (None,) + tuple(tf.switch_case(index, [
          lambda taken=taken: [upstream if i == taken else zeros for i in range(len(states))]
          for taken in range(len(states))]))

    return tf.switch_case(index, [lambda state=state: state for state in states]), grad

  return select(tf.clip_by_value(index, 0, len(states) - 1), *states)


class EdgeOps:
  """Every op of a list at one width and stride, as ONE traced function of
  (input, flat kernels of one edge position, op id).

  Tracing a switch over the ops, and above all its gradient, is what costs: done
  per edge it took minutes. Here each (width, stride) is traced once per input
  size, and every edge of every cell of that shape calls the same function.
  """

  def __init__(self, op_list, channels, stride, recompute=False):
    self.op_list = op_list
    self.stride = stride
    self.kernels = [fn.weights_of(op, channels, stride) for op in op_list]
    self.pieces, offset = [], 0  # per op: (start, size, shape) of each kernel in the flat row
    for kernels in self.kernels:
      self.pieces.append([])
      for w in kernels:
        self.pieces[-1].append((offset, int(np.prod(w.shape)), w.shape))
        offset += self.pieces[-1][-1][1]
    self.size = offset
    self.run = tf.function(self._recomputed if recompute else self._run, autograph=False,
                           experimental_attributes={"_noinline": True})

  def initial_rows(self, count):
    """[count, size]: PyTorch-style initial kernels for `count` edge positions."""
    flat = [tf.reshape(fn.init_uniform(w, (count,)), [count, -1])
            for kernels in self.kernels for w in kernels]
    return tf.concat(flat, axis=1) if flat else tf.zeros([count, 0])

  def _run(self, x, flat, op_id):
    def branch(op, pieces):
      return lambda: fn.apply_op(op, x, [tf.reshape(flat[start:start + size], shape)
                                         for start, size, shape in pieces], self.stride)

    return tf.switch_case(op_id, [branch(op, pieces)
                                  for op, pieces in zip(self.op_list, self.pieces)])

  def _recomputed(self, x, flat, op_id):
    """_run whose gradient runs the op again instead of keeping its inner activations."""
    return recompute_lib.recomputed(lambda x, flat: self._run(x, flat, op_id), x, flat)


class PositionWeights(tf.Module):
  """The kernels of every op for some edge positions (f, t), one row per position."""

  def __init__(self, edge_ops, positions, name):
    super().__init__(name=name)
    self.edge_ops = edge_ops
    self.rows = {position: row for row, position in enumerate(positions)}
    self.weights = tf.Variable(edge_ops.initial_rows(len(positions)), name="weights")

  def __call__(self, x, src, dst, op_id):
    """The op `op_id` on x at edge position (src, dst); sources outside the group map
    to row 0 (callers only take this path for sources of the group)."""
    rows = np.array([self.rows.get((f, dst), 0) for f in range(dst)], np.int32)
    row = tf.cast(tf.gather(self.weights, tf.gather(rows, src)), x.dtype)
    return self.edge_ops.run(x, row, op_id)


class Preprocess(tf.Module):
  """A cell input brought to the cell's width: ReLU-Conv1x1-BN, or factorized reduce."""

  def __init__(self, kind, c_in, channels, name):
    super().__init__(name=name)
    self.kind = kind
    if kind == macro.REDUCE:
      shapes = fn.factorized_reduce_weights(c_in, channels)
    else:
      shapes = [fn.Weight((1, 1, c_in, channels), c_in)]
    self.weights = [tf.Variable(fn.init_uniform(w), name=f"kernel_{i}")
                    for i, w in enumerate(shapes)]

  def __call__(self, x):
    kernels = [tf.cast(w, x.dtype) for w in self.weights]
    if self.kind == macro.REDUCE:
      return fn.factorized_reduce(x, *kernels)
    return fn.batch_stat_norm(fn.conv(fn.relu(x), kernels[0]))


class SuperCell(tf.Module):
  """A cell holding every op on every edge position; calling it runs one architecture."""

  def __init__(self, slot, op_list, num_nodes, loose_end, edge_ops, name):
    """`edge_ops(channels, stride)` gives the shared EdgeOps of that width and stride."""
    super().__init__(name=name)
    self.op_list = op_list
    self.num_nodes = num_nodes
    self.loose_end = loose_end
    self.reduction = slot.reduction
    self.preprocess = [Preprocess(kind, c_in, slot.channels, f"preprocess{i}")
                       for i, (kind, c_in) in enumerate(zip(slot.preprocess,
                                                            (slot.c_prev_prev, slot.c_prev)))]
    # Edge positions (f, t) per stride group: strided ones leave nodes 0/1 of a reduction cell.
    strided = [(f, t) for t in range(2, num_nodes + 2) for f in range(t)
               if self.reduction and f < 2]
    plain = [(f, t) for t in range(2, num_nodes + 2) for f in range(t)
             if not (self.reduction and f < 2)]
    self.plain = (PositionWeights(edge_ops(slot.channels, 1), plain, "stride1")
                  if plain else None)
    self.strided = (PositionWeights(edge_ops(slot.channels, 2), strided, "stride2")
                    if strided else None)

  def __call__(self, s0, s1, cell_architecture):
    """`cell_architecture`: int32 [2, E], (op ids, sources) of this cell's edges."""
    states = [self.preprocess[0](s0), self.preprocess[1](s1)]
    op_ids = cell_architecture[arch_lib.OP_IDS]
    sources = cell_architecture[arch_lib.SOURCES]
    for dst in range(2, self.num_nodes + 2):
      edges = (2 * (dst - 2), 2 * (dst - 2) + 1)
      states.append(tf.add_n([self._edge(states, dst, sources[e], op_ids[e]) for e in edges]))
    outputs = states[2:]
    if self.loose_end:
      used = tf.reduce_any(tf.equal(sources[:, None], tf.range(2, self.num_nodes + 2)), axis=0)
      keep = 1.0 - tf.cast(used, outputs[0].dtype)
      outputs = [state * keep[i] for i, state in enumerate(outputs)]
    return tf.concat(outputs, axis=-1)

  def _edge(self, states, dst, src, op_id):
    if not self.reduction:
      return self.plain(_select(states, src), src, dst, op_id)
    if dst == 2:  # only the inputs exist: every edge is strided
      return self.strided(_select(states, src), src, dst, op_id)
    return tf.switch_case(tf.cast(src >= 2, tf.int32), [
        lambda: self.strided(_select(states[:2], src), src, dst, op_id),
        lambda: self.plain(_select(states[2:], src - 2), src, dst, op_id)])


COMPUTE_DTYPES = ("float32", "bfloat16")


def _count_of_cells(recompute_cells, layers):
  """How many leading cells Supernet.recompute_cells names (True: all, False: none; a
  count above `layers` is all of them, so the default holds for any depth)."""
  if isinstance(recompute_cells, bool):
    return layers if recompute_cells else 0
  if not isinstance(recompute_cells, int) or recompute_cells < 0:
    raise UsageError(f"Supernet.recompute_cells = {recompute_cells!r}; expected True, False "
                     f"or a number of leading cells, 0 or more (layers = {layers})")
  return min(recompute_cells, layers)


@gin.configurable(denylist=["op_list", "num_classes", "image_size", "in_channels"])
class Supernet(tf.Module):
  """logits = supernet(images, architecture [2, 2, E]) for any architecture of the space.

  recompute_edges: the gradient runs each edge op again rather than keeping its inner
    activations.
  recompute_cells: the cells whose gradient runs the cell again, so only their outputs
    are kept through the forward pass: False (none), True (all) or n, the first n cells
    (all of them if there are fewer).
    The first cells work at the input's full resolution: each reduction quarters the
    pixels and doubles the channels, so a cell's activations halve from stage to stage
    while its multiply-adds stay the same, and recomputing the first cells frees the
    most memory per second of recomputation. The default, the first two cells, takes
    0.45 GB off the weight step's peak at the reference configuration (batch 64) for
    a few percent of its time; all cells and recompute_edges together hold the least,
    and cost the most weight-step time (BUILD_NOTES, Performance).
  compute_dtype: 'float32', or 'bfloat16' for mixed precision: the network computes in
    bfloat16 from float32 weights, which stay float32 (as do the logits and the
    batch-norm statistics); no loss scaling is needed, bfloat16 has float32's range.
  """

  def __init__(self, op_list, num_classes, image_size, in_channels, num_nodes=4, channels=20,
               layers=8, recompute_edges=False, recompute_cells=2, compute_dtype="float32",
               name="supernet"):
    super().__init__(name=name)
    if compute_dtype not in COMPUTE_DTYPES:
      raise UsageError(f"Supernet.compute_dtype = {compute_dtype!r}; expected one of "
                       f"{COMPUTE_DTYPES}")
    self.compute_dtype = tf.as_dtype(compute_dtype)
    self.recomputed_cells = _count_of_cells(recompute_cells, layers)
    self.op_list = ops.op_list(op_list)
    self.num_nodes = num_nodes
    self.skeleton = macro.cifar(channels, layers, (num_nodes, num_nodes), num_classes,
                                image_size, in_channels)
    stem = self.skeleton.stem0[0]
    self.stem_kernel = tf.Variable(fn.init_uniform(fn.Weight(
        (stem.kernel, stem.kernel, stem.c_in, stem.c_out), stem.kernel ** 2 * stem.c_in)),
        name="stem_kernel")
    self.stem_scale = tf.Variable(tf.ones([stem.c_out]), name="stem_scale")
    self.stem_offset = tf.Variable(tf.zeros([stem.c_out]), name="stem_offset")
    loose_end = ops.outputs_loose_ends(self.op_list)
    shared = {}

    def edge_ops(channels, stride):
      if (channels, stride) not in shared:
        shared[(channels, stride)] = EdgeOps(self.op_list, channels, stride, recompute_edges)
      return shared[(channels, stride)]

    self.cells = [SuperCell(slot, self.op_list, num_nodes, loose_end, edge_ops,
                            f"cell_{slot.index}") for slot in self.skeleton.cells]
    features = self.skeleton.classifier_in
    bound = features ** -0.5
    self.classifier_kernel = tf.Variable(tf.random.uniform([features, num_classes], -bound, bound),
                                         name="classifier_kernel")
    self.classifier_bias = tf.Variable(tf.random.uniform([num_classes], -bound, bound),
                                       name="classifier_bias")

  def __call__(self, images, architecture):
    return self.from_stem(self.stem(images), architecture)

  def stem(self, images):
    """The stem's output, which no architecture changes: scoring several architectures
    on one batch computes it once (supernet_steps.Scorer)."""
    # An unknown batch size in the traced graph: with a static one, TensorFlow folds the
    # zeros that gradients give untaken branches into constants of the batch's shape,
    # kept for the life of the function (0.36 GB at batch 64, 1.5 GB at 256).
    images = tf.compat.v1.placeholder_with_default(images, [None] + images.shape[1:])
    images = tf.cast(images, self.compute_dtype)
    stem = fn.conv(images, tf.cast(self.stem_kernel, images.dtype))
    return fn.batch_stat_norm(stem, self.stem_scale, self.stem_offset)

  def from_stem(self, stem, architecture):
    """The logits of `architecture` [2, 2, E] from the stem's output."""
    architecture = tf.convert_to_tensor(architecture)
    checks = arch_lib.check(architecture, self.num_nodes, len(self.op_list))
    with tf.control_dependencies(checks):
      s0 = s1 = tf.identity(stem)
    for cell, slot in zip(self.cells, self.skeleton.cells):
      cell_architecture = architecture[int(slot.reduction)]
      if slot.index < self.recomputed_cells:
        output = recompute_lib.recomputed(
            lambda s0, s1, cell=cell, arch=cell_architecture: cell(s0, s1, arch), s0, s1)
      else:
        output = cell(s0, s1, cell_architecture)
      s0, s1 = s1, output
    pooled = tf.reduce_mean(tf.cast(s1, tf.float32), axis=[1, 2])
    return tf.matmul(pooled, self.classifier_kernel) + self.classifier_bias

