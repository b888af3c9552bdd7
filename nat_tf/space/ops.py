"""Operation vocabularies of NAT, NAT++ and NAS-Bench-201, the classes of their
operations, and the family table that says what each op is.

An op's index in its list is the op id that the supernet, the policy's embeddings
and the observation tensors use, so the lists keep the reference's order exactly
(the reference code). NAS-Bench-201's list orders its ops as the others do (pooling first,
null last), not as the benchmark does; its table index (space/nasbench201.py) is
defined on this order. Ops outside every list (NAONet's) are still known by name so that
such genotypes parse, cost and build; they are rejected only where a fixed
vocabulary is required (a supernet or a trained policy).

`OP_SPECS` is the one place that says what an op name means (its family and the
family's parameters): the cost model (`cost.py`), the Keras layers (`nn/layers.py`) and
the supernet's op functions (`nn/functional.py`) each map a family to its cost or
computation and read the parameters from there, so a new op of a known family is one
line here and a new family one entry in each of those three maps.
"""

import dataclasses
import difflib
import enum

from nat_tf.errors import UsageError

SKIP = "skip_connect"
NULL = "null"


class OpClass(enum.Enum):
  """NAT's coarse classes: any computational op (O), skip (S), null (N)."""

  COMPUTATIONAL = "O"
  SKIP = "S"
  NULL = "N"


class OpList(tuple):
  """An ordered operation vocabulary with a name; index = op id."""

  def __new__(cls, name, ops):
    self = super().__new__(cls, ops)
    self.name = name
    return self

  def __getnewargs__(self):
    return (self.name, tuple(self))

  def op_id(self, op):
    """The id of `op` in this list, or a UsageError naming the closest op."""
    if op not in self:
      raise UsageError(f"operation {op!r} is not in the {self.name} op list "
                       f"{list(self)}{did_you_mean(op, self)}")
    return self.index(op)

  @property
  def null_id(self):
    return self.index(NULL)

  @property
  def skip_id(self):
    return self.index(SKIP)


FULLY_CONCAT = OpList("fully_concat", (
    "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
    "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5", "conv_3x3", "null"))

LOOSE_END = OpList("loose_end", (
    "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
    "sep_conv_5x5", "conv_1x1", "conv_3x3", "conv_5x5", "null"))

NATPP = OpList("natpp", (
    "max_pool_3x3", "max_pool_5x5", "avg_pool_3x3", "avg_pool_5x5",
    "skip_connect", "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3",
    "dil_conv_5x5", "conv_1x1", "conv_3x3", "conv_5x5", "null"))

# NAS-Bench-201's five ops under this project's names (space/nasbench201.py maps them to
# the benchmark's), so its cells cost and build with the ops every other list uses.
NASBENCH201 = OpList("nasbench201", (
    "avg_pool_3x3", "skip_connect", "conv_1x1", "conv_3x3", "null"))

OP_LISTS = {op_list.name: op_list
            for op_list in (FULLY_CONCAT, LOOSE_END, NATPP, NASBENCH201)}


class OpFamily(enum.Enum):
  """How an op computes (the reference's ops; ReLU first wherever there is a conv)."""

  SKIP = "skip"  # identity; a factorized reduce at stride 2
  NULL = "null"  # zeros of the output's shape
  POOL = "pool"  # max or average pooling (followed by a non-affine BN in the supernet)
  CONV = "conv"  # ReLU -> kxk conv -> BN
  SEP_CONV = "sep_conv"  # (ReLU -> depthwise kxk -> pointwise -> BN) twice
  DIL_CONV = "dil_conv"  # ReLU -> depthwise kxk of dilation 2 -> pointwise -> BN
  FACTORIZED_CONV = "conv_factorized"  # ReLU -> 1xk conv -> kx1 conv -> BN (conv_1xk_kx1)


@dataclasses.dataclass(frozen=True)
class OpSpec:
  """An op as its family and the family's parameters."""

  family: OpFamily
  kernel: int = 0  # window side (k of a factorized conv's 1xk and kx1); 0: skip, null
  pool: str = ""  # POOL's kind: 'max' or 'avg'


def _pool(kind, kernel):
  return OpSpec(OpFamily.POOL, kernel, kind)


# Every known op, NAT++'s list first (in its order), then the ops that appear in
# published genotypes (NAONet) but in no op list.
OP_SPECS = {
    "max_pool_3x3": _pool("max", 3), "max_pool_5x5": _pool("max", 5),
    "avg_pool_3x3": _pool("avg", 3), "avg_pool_5x5": _pool("avg", 5),
    SKIP: OpSpec(OpFamily.SKIP),
    "sep_conv_3x3": OpSpec(OpFamily.SEP_CONV, 3), "sep_conv_5x5": OpSpec(OpFamily.SEP_CONV, 5),
    "dil_conv_3x3": OpSpec(OpFamily.DIL_CONV, 3), "dil_conv_5x5": OpSpec(OpFamily.DIL_CONV, 5),
    "conv_1x1": OpSpec(OpFamily.CONV, 1), "conv_3x3": OpSpec(OpFamily.CONV, 3),
    "conv_5x5": OpSpec(OpFamily.CONV, 5),
    NULL: OpSpec(OpFamily.NULL),
    "conv_1x3_3x1": OpSpec(OpFamily.FACTORIZED_CONV, 3),
    "conv_1x7_7x1": OpSpec(OpFamily.FACTORIZED_CONV, 7),
    "avg_pool_2x2": _pool("avg", 2), "max_pool_2x2": _pool("max", 2),
}

KNOWN_OPS = tuple(OP_SPECS)


def op_class(op):
  """NAT's class of an op: skip, null, or computational."""
  if op == SKIP:
    return OpClass.SKIP
  if op == NULL:
    return OpClass.NULL
  return OpClass.COMPUTATIONAL


def is_pooling(op):
  return op_spec(op).family is OpFamily.POOL


def op_spec(op):
  """The OpSpec of a known op; a UsageError naming the closest op for an unknown one."""
  check_known(op)
  return OP_SPECS[op]


def did_you_mean(name, choices):
  """A ' (did you mean ...?)' suffix for error messages, or ''."""
  by_lower = {str(choice).lower(): choice for choice in choices}
  close = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1, cutoff=0.5)
  return f" (did you mean {by_lower[close[0]]!r}?)" if close else ""


def check_known(op):
  """Raise a UsageError naming the closest known op if `op` is unknown."""
  if op not in KNOWN_OPS:
    raise UsageError(f"unknown operation {op!r}{did_you_mean(op, KNOWN_OPS)}")


def outputs_loose_ends(op_list_or_name):
  """Whether cells over this op list output their loose ends (ENAS, the hand-crafted
  blocks) rather than every intermediate node (DARTS): the reference ties the output
  rule to the op list, and so does the supernet here."""
  return op_list(op_list_or_name).name == LOOSE_END.name


def op_list(name_or_list):
  """An OpList from its name ('fully_concat', 'loose_end', 'natpp', 'nasbench201') or
  itself."""
  if isinstance(name_or_list, OpList):
    return name_or_list
  if name_or_list not in OP_LISTS:
    raise UsageError(f"unknown op list {name_or_list!r}; choose one of "
                     f"{sorted(OP_LISTS)}{did_you_mean(name_or_list, OP_LISTS)}")
  return OP_LISTS[name_or_list]
