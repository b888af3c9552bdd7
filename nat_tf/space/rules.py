"""Transition rules by op name: which op may replace which (the reference code).

NAT: a computational op may stay, become a skip connection or be removed; skip and
null may swap. NAT++ (TPAMI): the two-level table of the NATv2 code, type
conv -> sep_conv -> dil_conv -> pooling and kernel 5x5 -> 3x3 -> 1x1.
These are the rules of the papers; `action_spaces.py` further removes any
transition that would make an edge more expensive (e.g. a pooling edge of stride
two becoming a factorized-reduce skip), so that no valid action adds cost.
"""

from nat_tf.space import ops

NAT_ACTIONS = ("keep", "skip", "null")

_POOLS_5 = ("max_pool_5x5", "max_pool_3x3", "avg_pool_5x5", "avg_pool_3x3")
_POOLS_3 = ("max_pool_3x3", "avg_pool_3x3")
_REMOVE = (ops.SKIP, ops.NULL)

NATPP_TRANSITIONS = {
    "conv_5x5": ("conv_5x5", "conv_3x3", "conv_1x1", "sep_conv_5x5", "sep_conv_3x3",
                 "dil_conv_5x5", "dil_conv_3x3") + _POOLS_5 + _REMOVE,
    "conv_3x3": ("conv_3x3", "conv_1x1", "sep_conv_3x3", "dil_conv_3x3") + _POOLS_3 + _REMOVE,
    "conv_1x1": ("conv_1x1",) + _REMOVE,
    "sep_conv_5x5": ("sep_conv_5x5", "sep_conv_3x3", "dil_conv_5x5", "dil_conv_3x3")
                    + _POOLS_5 + _REMOVE,
    "sep_conv_3x3": ("sep_conv_3x3", "dil_conv_3x3") + _POOLS_3 + _REMOVE,
    "dil_conv_5x5": ("dil_conv_5x5", "dil_conv_3x3") + _POOLS_5 + _REMOVE,
    "dil_conv_3x3": ("dil_conv_3x3",) + _POOLS_3 + _REMOVE,
    "avg_pool_5x5": _POOLS_5 + _REMOVE,
    "avg_pool_3x3": _POOLS_3 + _REMOVE,
    "max_pool_5x5": _POOLS_5 + _REMOVE,
    "max_pool_3x3": _POOLS_3 + _REMOVE,
    ops.SKIP: _REMOVE,
    ops.NULL: _REMOVE,
}


def nat_result(op, action):
  """The op an edge holds after NAT action `action` ('keep', 'skip', 'null')."""
  return {"keep": op, "skip": ops.SKIP, "null": ops.NULL}[action]


def nat_allowed(op, action):
  """NAT's rule O->{O,S,N}, S->{S,N}, N->{N,S}, with duplicates removed.

  'keep' on a skip or null edge equals another action, so it is masked: every
  valid action then yields a different cell.
  """
  return action != "keep" or ops.op_class(op) is ops.OpClass.COMPUTATIONAL


def natpp_allowed(op, target):
  """NAT++'s table; an op outside it (e.g. NAONet's) may only keep or be removed."""
  return target in NATPP_TRANSITIONS.get(op, (op,) + _REMOVE)
