"""Analytic parameters and multiply-adds of ops, cells and whole networks.

Conventions (the reference code): parameters are the trainable ones (affine batch-norm
counts 2C, its moving statistics do not); multiply-adds count convolutions as
Cin*Cout*kh*kw*Hout*Wout/groups and linear layers as in*out, and nothing else.
The auxiliary head is reported separately. The Keras models of `nat_tf.nn` are
tested to match these numbers exactly.
"""

import typing

from nat_tf.errors import UsageError
from nat_tf.space import macro
from nat_tf.space import networks
from nat_tf.space import ops


class Cost(typing.NamedTuple):
  params: int = 0
  madds: int = 0

  def __add__(self, other):
    return Cost(self.params + other.params, self.madds + other.madds)


class NetworkCost(typing.NamedTuple):
  params: int
  madds: int
  params_auxiliary: int
  madds_auxiliary: int

  def as_dict(self):
    return self._asdict()


def total(costs):
  return sum(costs, Cost())


def conv(c_in, c_out, kernel, stride, in_size, groups=1, bn=True):
  """A bias-free convolution with 'same'-style padding, plus an affine BN on its output.

  `kernel` and `stride` are ints or (height, width) pairs; `in_size` is (h, w) or an int.
  """
  kh, kw = _pair(kernel)
  sh, sw = _pair(stride)
  h, w = _pair(in_size)
  weights = c_in // groups * c_out * kh * kw
  out_positions = macro.out_size(h, sh) * macro.out_size(w, sw)
  return Cost(weights + (2 * c_out if bn else 0), weights * out_positions)


def linear(n_in, n_out):
  return Cost(n_in * n_out + n_out, n_in * n_out)


def batch_norm(channels):
  return Cost(2 * channels, 0)


def factorized_reduce(c_in, c_out, in_size):
  """Two 1x1 stride-2 convs (on x and on x shifted by a pixel), concatenated, then BN."""
  half = conv(c_in, c_out // 2, 1, 2, in_size, bn=False)
  return half + half + batch_norm(c_out)


def _free(spec, channels, stride, in_size):
  return Cost()


def _skip(spec, channels, stride, in_size):
  return factorized_reduce(channels, channels, in_size) if stride == 2 else Cost()


def _conv(spec, channels, stride, in_size):
  return conv(channels, channels, spec.kernel, stride, in_size)


def _separable(channels, kernel, stride, in_size):
  """A depthwise kxk conv (no BN) and a pointwise conv with its BN."""
  depthwise = conv(channels, channels, kernel, stride, in_size, groups=channels, bn=False)
  return depthwise + conv(channels, channels, 1, 1, macro.out_size(in_size, stride))


def _sep_conv(spec, channels, stride, in_size):
  out = macro.out_size(in_size, stride)
  return (_separable(channels, spec.kernel, stride, in_size)
          + _separable(channels, spec.kernel, 1, out))


def _dil_conv(spec, channels, stride, in_size):
  return _separable(channels, spec.kernel, stride, in_size)


def _factorized_conv(spec, channels, stride, in_size):
  c, k, out = channels, spec.kernel, macro.out_size(in_size, stride)
  first = conv(c, c, (1, k), (1, stride), in_size, bn=False)
  return first + conv(c, c, (k, 1), (stride, 1), (in_size, out))


_FAMILY_COSTS = {ops.OpFamily.SKIP: _skip, ops.OpFamily.NULL: _free, ops.OpFamily.POOL: _free,
                 ops.OpFamily.CONV: _conv, ops.OpFamily.SEP_CONV: _sep_conv,
                 ops.OpFamily.DIL_CONV: _dil_conv, ops.OpFamily.FACTORIZED_CONV: _factorized_conv}


def op_cost(op, channels, stride, in_size):
  """Cost of one edge op mapping `channels` to `channels` at input size `in_size`."""
  spec = ops.op_spec(op)
  return _FAMILY_COSTS[spec.family](spec, channels, stride, in_size)


def edge_costs(cell, slot):
  """Cost of each edge op of `cell` placed at `slot`, in edge order."""
  return [op_cost(e.op, slot.channels, macro.edge_stride(slot.reduction, e.src),
                  macro.node_size(slot, e.src))
          for e in cell.edges]


def preprocess_cost(slot):
  """preprocess0 and preprocess1 of the kinds the slot names (DARTS: factorized reduce
  after a reduction, else ReLU-conv1x1-BN)."""
  return total(_adaptation_cost(kind, c_in, slot.channels, slot.in_size)
               for kind, c_in in zip(slot.preprocess, (slot.c_prev_prev, slot.c_prev)))


def _adaptation_cost(kind, c_in, c_out, out_size):
  if kind == macro.REDUCE:
    return factorized_reduce(c_in, c_out, 2 * out_size)
  if kind == macro.CONV:
    return conv(c_in, c_out, 1, 1, out_size)
  return Cost()  # identity or unused


def cell_cost(cell, slot):
  return preprocess_cost(slot) + total(edge_costs(cell, slot))


def auxiliary_cost(skeleton):
  """DARTS auxiliary head: avgpool 5 -> conv1x1 128 -> BN -> conv2x2 768 (-> BN) -> linear."""
  if skeleton.auxiliary_index is None:
    raise UsageError(f"the {skeleton.name} network has no auxiliary head; turn it off")
  channels, size = skeleton.auxiliary_in
  pooled = (size - 5) // skeleton.auxiliary_pool_stride + 1
  if pooled < 2:
    raise UsageError(f"the auxiliary head needs feature maps of at least "
                     f"{5 + skeleton.auxiliary_pool_stride}x{5 + skeleton.auxiliary_pool_stride}"
                     f" after cell {skeleton.auxiliary_index}, got {size}x{size}; use larger "
                     "images or turn the auxiliary head off")
  first = conv(channels, 128, 1, 1, pooled)
  second = conv(128, 768, 2, 1, pooled - 1, bn=skeleton.auxiliary_final_bn)
  return first + second + linear(768 * (pooled - 1) ** 2, skeleton.num_classes)


def stem_cost(skeleton):
  return _convs_cost(skeleton.stem0 + skeleton.stem1)


def _convs_cost(convs):
  return total(conv(s.c_in, s.c_out, s.kernel, s.stride, s.in_size) for s in convs)


def network_cost(genotype, skeleton, auxiliary=True):
  """Parameters and multiply-adds of `genotype` laid out on `skeleton`."""
  body = stem_cost(skeleton) + _convs_cost(skeleton.head)
  body += linear(skeleton.classifier_in, skeleton.num_classes)
  for slot in skeleton.cells:
    body += cell_cost(genotype.reduce if slot.reduction else genotype.normal, slot)
  aux = auxiliary_cost(skeleton) if auxiliary else Cost()
  return NetworkCost(body.params, body.madds, aux.params, aux.madds)


def _pair(value):
  return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def report(genotype, dataset="cifar10", channels=None, layers=None, auxiliary=False,
           network=networks.DARTS):
  """One JSON-ready dict: the network's cost with its settings spelled out."""
  plan = networks.skeleton(genotype, network, dataset, channels, layers)
  return summary(plan, dataset, auxiliary, network_cost(genotype, plan, auxiliary))


def summary(plan, dataset, auxiliary, result):
  """The report dict of a NetworkCost `result` for skeleton `plan`, however it was counted."""
  return {"skeleton": plan.name, "dataset": dataset, "channels": plan.cells[0].channels,
          "layers": len(plan.cells), "image_size": plan.image_size, "auxiliary": auxiliary,
          **result.as_dict()}


COST_METRICS = ("madds", "params")


def edge_cost_table(op_list, skeleton, metric="madds"):
  """[cell type (normal, reduce), strided (0, 1), op id]: an edge op's cost summed over
  every cell of that type in `skeleton`.

  The cells' op cost of an architecture is then a sum of gathers from this table
  over its edges, which is how the search's cost-aware reward stays in TensorFlow.
  """
  if metric not in COST_METRICS:
    raise UsageError(f"cost metric {metric!r} is not one of {list(COST_METRICS)}")
  table = [[[0] * len(op_list) for _ in range(2)] for _ in range(2)]
  for slot in skeleton.cells:
    for strided in (0, 1):
      if strided and not slot.reduction:
        continue
      # Unstrided reduction edges leave nodes >= 2.
      size = macro.node_size(slot, 0 if strided else 2)
      for op_id, op in enumerate(op_list):
        table[int(slot.reduction)][strided][op_id] += getattr(
            op_cost(op, slot.channels, 1 + strided, size), metric)
  return table


def cells_op_cost(genotype, skeleton, metric="madds"):
  """The summed cost of the edge ops of every cell (no stem, preprocessing or head)."""
  return sum(getattr(c, metric) for slot in skeleton.cells
             for c in edge_costs(genotype.reduce if slot.reduction else genotype.normal, slot))
