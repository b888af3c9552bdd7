"""The placement control: a policy's own changes, moved to random edges of the same cell.

A cost-aware policy can beat the uniformly random policy just by changing fewer
edges; that says it learned HOW MUCH to change, not WHERE. The control keeps, per
cell, exactly the changes the policy made (e.g. two edges to skip, one to null)
and puts each on a random edge of the same cell that may legally take it (a valid
action leads there and the edge does not hold that op already). If the policy
beats its own placement control, where it cuts matters.

Fairness: the most constrained changes are placed first, each uniformly among the
free edges that can take it. For NAT, where a skip may go to fewer edges than a
null (not onto a skip, nor onto a stride-2 pooling edge, which would add cost),
this draws uniformly among all valid arrangements of the same changes: every
choice of skip edges leaves the same number of ways to place the nulls. The
policy's own arrangement is always valid, so every change finds an edge there;
under NAT++'s richer transitions a change can, rarely, find no free edge, and is
then dropped and counted.
"""

import numpy as np


def placement_actions(actions, observation, action_space, rng):
  """(actions [N, 2, E] of the control, number of changes that found no edge).

  `actions`: the policy's actions on the cells of `observation` (numpy arrays).
  """
  op_ids, mask = observation["op_ids"], observation["mask"]
  outcomes = action_space.result[op_ids]  # [N, 2, E, K]: the op each action leads to
  num_ops = action_space.result.shape[0]
  leads = mask[..., None] & (outcomes[..., None] == np.arange(num_ops))  # [N, 2, E, K, ops]
  reachable = leads.any(axis=-2) & (op_ids[..., None] != np.arange(num_ops))
  targets = np.take_along_axis(outcomes, actions[..., None], axis=-1)[..., 0]
  placed = op_ids.copy()
  unplaced = 0
  for cell in np.ndindex(op_ids.shape[:2]):
    moves = targets[cell][targets[cell] != op_ids[cell]]
    takes = reachable[cell][:, moves]  # [E, moves]
    free = np.ones(len(op_ids[cell]), bool)
    for move in np.argsort(takes.sum(axis=0) + rng.random(len(moves))):
      options = np.flatnonzero(takes[:, move] & free)
      if not options.size:
        unplaced += 1
        continue
      edge = rng.choice(options)
      free[edge] = False
      placed[cell][edge] = moves[move]
  # The first valid action leading to each op; unchanged edges get the one keeping theirs.
  first_action = np.argmax(leads, axis=-2)
  return np.take_along_axis(first_action, placed[..., None], axis=-1)[..., 0], unplaced
