"""Baselines on NAT's own transformation space, for the questions its reviewers asked.

- Random search: transformations drawn by UniformValidPolicy (every valid action
  of an edge equally likely), as many connected ones as derivation proposes (the
  greedy one plus the samples), scored on the same held-out split and kept by the
  same Selection: what does the learned policy add over sampling the space?
- Random search with ten times the evaluations: does the learned policy beat
  sampling when sampling gets a larger budget?
- The best single-edge change: every valid change of one edge, the others kept, scored
  on the held-out split and kept by the same Selection: what a practitioner tries first,
  one edit at a time.
- Heuristics: every computational op becomes a skip connection; every pooling op
  is removed. An edge changes only where the valid-action mask allows it (e.g. a
  stride-2 pooling edge never becomes a factorized-reduce skip, which would add
  parameters), so no baseline costs more than its input either.
"""

import numpy as np
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from nat_tf.errors import UsageError
from nat_tf.rl import control_policies
from nat_tf.search import transformations
from nat_tf.space import ops


# Draws per proposal random search may spend before it gives up on an input whose random
# transformations are almost all disconnected.
MOST_DRAWS_PER_PROPOSAL = 50


def random_proposals(editor, genotype, count, seed):
  """([(source, genotype)], rejected): `count` uniformly random valid transformations of
  `genotype` whose cells all stay connected (Genotype.disconnected), and how many
  disconnected ones were drawn and rejected on the way. Uniform actions on a block whose
  reduction cell is one chain null some edge of that chain in most draws; such a network
  trains to chance, and keeping it among the proposals would make random search a
  strawman. A UsageError when `count` connected ones take more than
  MOST_DRAWS_PER_PROPOSAL draws each."""
  policy = control_policies.UniformValidPolicy(ts.time_step_spec(editor.observe.spec),
                                               editor.action_spec)
  tf.random.set_seed(seed)
  kept, rejected = [], 0
  while len(kept) < count:
    if rejected > MOST_DRAWS_PER_PROPOSAL * count:
      raise UsageError(f"random search drew {rejected} disconnected transformations of the input "
                       f"and only {len(kept)} of the {count} connected ones it needs: the input "
                       "has almost no connected transformation; check that it is connected")
    for candidate in transformations.transform(policy, editor, genotype, count):
      if candidate.disconnected():
        rejected += 1
      elif len(kept) < count:
        kept.append(candidate)
  return [(f"random {i + 1}", g) for i, g in enumerate(kept)], rejected


def _action_to(space, mask, op_id, target_id):
  """A valid action (under `mask`) that turns op `op_id` into `target_id`, or None."""
  found = np.flatnonzero((space.result[op_id] == target_id) & mask)
  return int(found[0]) if found.size else None


def replace_where_allowed(genotype, space, should_replace, target):
  """`genotype` with every edge whose op passes `should_replace` turned into `target`
  where a valid action of `space` does that; every other edge keeps its op."""
  target_id = space.op_list.op_id(target)
  actions = _keep_actions(genotype, space)
  for reduction, cell in enumerate((genotype.normal, genotype.reduce)):
    for index, (mask, op) in enumerate(zip(space.edge_masks(cell, bool(reduction)), cell.ops)):
      wanted = _action_to(space, mask, space.op_list.op_id(op), target_id)
      if should_replace(op) and wanted is not None:
        actions[reduction][index] = wanted
  return space.apply_genotype(genotype, *actions)


def _keep_actions(genotype, space):
  """Per cell, per edge, the action that keeps its op (valid on every edge)."""
  return [[_action_to(space, mask, space.op_list.op_id(op), space.op_list.op_id(op))
           for mask, op in zip(space.edge_masks(cell, bool(reduction)), cell.ops)]
          for reduction, cell in enumerate((genotype.normal, genotype.reduce))]


def single_edge_proposals(genotype, space):
  """[(source, genotype)] of every distinct connected transformation of `genotype` that
  changes one edge by a valid action and keeps the others."""
  keep = _keep_actions(genotype, space)
  proposals, seen = [], {genotype}
  for reduction, (name, cell) in enumerate(genotype.cells.items()):
    for index, mask in enumerate(space.edge_masks(cell, bool(reduction))):
      for action in np.flatnonzero(mask):
        actions = [list(row) for row in keep]
        actions[reduction][index] = int(action)
        changed = space.apply_genotype(genotype, *actions)
        if changed not in seen and not changed.disconnected():
          seen.add(changed)
          edge = cell.edges[index]
          proposals.append((f"{name} edge {edge.src}->{edge.dst}: {edge.op} -> "
                            f"{space.action_names[action]}", changed))
  return proposals


def _computational(op):
  return ops.op_class(op) is ops.OpClass.COMPUTATIONAL


HEURISTICS = {
    "skip everywhere": lambda genotype, space: replace_where_allowed(genotype, space,
                                                                      _computational, ops.SKIP),
    "no pooling": lambda genotype, space: replace_where_allowed(genotype, space, ops.is_pooling,
                                                                ops.NULL),
}


def heuristic_proposals(genotype, space):
  """[(name, genotype)] of every heuristic applied to `genotype`."""
  return [(name, heuristic(genotype, space)) for name, heuristic in HEURISTICS.items()]
