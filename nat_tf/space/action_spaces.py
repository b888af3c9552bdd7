"""Action semantics: what an action does to an edge, and which actions are valid.

An ActionSpace turns the name-level rules of `rules.py` into id-level tables that
the TensorFlow code gathers from, so the hot path never loops over edges:

- `result[op_id, action]`: the op id an edge holds after the action;
- `valid[stride_index, op_id, action]`: whether the action is allowed on an edge
  holding that op, where stride_index 1 marks the stride-2 edges of reduction
  cells (leaving node 0 or 1).

An action is valid when the paper's rule allows it, it yields a distinct cell,
and it does not make the edge more expensive. The last condition matters only on
stride-2 edges, where a skip connection is a factorized reduce with parameters:
there a pooling or null edge may not become a skip (NAT_DARTS, as published,
does exactly that in its reduction cell; this project never will).

A transformed genotype is pruned (`genotype.Cell.pruned`): a node that null edges leave
dead leaves the output, and ops that read it or feed nothing become null. Null is
valid on every edge, so the pruned cell is itself the result of valid actions, and
the supernet scores it exactly as the unpruned one (the environment's reward needs
no pruning); the network trained from it is cheaper. Actions that make a node dead
are not masked: the per-edge masks cannot forbid "both inputs null" without making
one edge's choice depend on another's, and a pruned node is a cheaper cell, not a
broken one (BUILD_NOTES, Derivation).
"""

import functools

import numpy as np

from nat_tf.errors import UsageError
from nat_tf.space import cost
from nat_tf.space import macro
from nat_tf.space import ops
from nat_tf.space import rules

NAT = "nat"
NATPP = "natpp"

# Cost checks use these widths: an edge's cost is a*C^2 + b*C, so if a cheaper op is
# cheaper at both ends of this range it is cheaper everywhere inside it.
MIN_CHANNELS = 4
_CHECK_CHANNELS = (MIN_CHANNELS, 4096)
_CHECK_SIZE = 8


class InvalidActionError(UsageError):
  """An action that the transition rules do not allow on its edge."""


def _not_costlier(source, target, stride):
  for channels in _CHECK_CHANNELS:
    before = cost.op_cost(source, channels, stride, _CHECK_SIZE)
    after = cost.op_cost(target, channels, stride, _CHECK_SIZE)
    if after.params > before.params or after.madds > before.madds:
      return False
  return True


class ActionSpace:
  """NAT ({keep, skip, null} per edge) or NAT++ (a target op per edge) over an op list."""

  def __init__(self, kind, op_list):
    if kind not in (NAT, NATPP):
      raise UsageError(f"unknown action space {kind!r}; choose {NAT!r} or {NATPP!r}"
                       f"{ops.did_you_mean(kind, (NAT, NATPP))}")
    self.kind = kind
    self.op_list = ops.op_list(op_list)
    self.action_names = rules.NAT_ACTIONS if kind == NAT else tuple(self.op_list)
    n_ops, n_actions = len(self.op_list), len(self.action_names)
    self.result = np.zeros((n_ops, n_actions), np.int32)
    self.valid = np.zeros((2, n_ops, n_actions), bool)
    for op_id, op in enumerate(self.op_list):
      for action, name in enumerate(self.action_names):
        target = rules.nat_result(op, name) if kind == NAT else name
        self.result[op_id, action] = self.op_list.index(target)
        allowed = rules.nat_allowed(op, name) if kind == NAT else rules.natpp_allowed(op, name)
        for stride_index, stride in enumerate((1, 2)):
          self.valid[stride_index, op_id, action] = allowed and _not_costlier(op, target, stride)

  @property
  def num_actions(self):
    return len(self.action_names)

  @property
  def keep_actions(self):
    """Per op id, the valid action that leaves the edge unchanged (under NAT 'keep' is
    masked on skip and null edges, where the 'skip' or 'null' action keeps them)."""
    return np.array([int(np.flatnonzero((self.result[i] == i) & self.valid[0, i])[0])
                     for i in range(len(self.op_list))], np.int32)

  def edge_masks(self, cell, reduction):
    """Valid-action mask [edges, actions] of a cell."""
    op_ids = [self.op_list.op_id(op) for op in cell.ops]
    strides = [macro.edge_stride(reduction, src) - 1 for src in cell.sources]
    return self.valid[strides, op_ids]

  def apply(self, cell, actions, reduction, cell_name=None):
    """The cell after one action per edge, unpruned; an invalid action raises
    InvalidActionError."""
    actions = np.asarray(actions)
    if actions.shape != (len(cell.edges),):
      raise InvalidActionError(f"expected one action per edge ({len(cell.edges)}), got shape "
                               f"{actions.shape}")
    masks = self.edge_masks(cell, reduction)
    new_ops = []
    for index, (edge, action) in enumerate(zip(cell.edges, actions)):
      if not 0 <= action < self.num_actions or not masks[index, action]:
        name = self.action_names[action] if 0 <= action < self.num_actions else action
        allowed = [self.action_names[a] for a in np.flatnonzero(masks[index])]
        raise InvalidActionError(
            f"{cell_name or ('reduce' if reduction else 'normal')} cell, edge {index} "
            f"{(edge.op, edge.src, edge.dst)}: action {name!r} is not allowed; valid: {allowed}")
      new_ops.append(self.op_list[self.result[self.op_list.op_id(edge.op), action]])
    return cell.with_ops(new_ops)

  def apply_genotype(self, genotype, normal_actions, reduce_actions):
    """The transformation of `genotype` by one action per edge of each cell, pruned
    (module doc)."""
    return genotype.replace(normal=self.apply(genotype.normal, normal_actions, False),
                            reduce=self.apply(genotype.reduce, reduce_actions, True)).pruned()


@functools.lru_cache(maxsize=None)
def action_space(kind, op_list_name):
  """A shared ActionSpace for (kind, op list name); the tables are built once."""
  return ActionSpace(kind, op_list_name)
