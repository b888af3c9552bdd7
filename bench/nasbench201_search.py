"""Searches on NAS-Bench-201's table that need no policy, in numpy: what a transformer's
output is measured against in bench/nasbench201_report.py.

Every search here starts from an input cell and stays inside what ONE transformation of
it reaches (`Reach`: per edge, the ops its valid actions give), the space the policy
acts in, so the exhaustive `oracle` bounds all of them on every input and any gap
between a method and it is the method's, not a different space's. In both NAS-Bench-201
action spaces a chain of valid single-edge changes reaches nothing more (an edge can
always go back to skip or null, and from there only between the two), so hill-climbing
loses nothing by this.

Accuracies are one table column (percent, [NUM_ARCHS], row = nasbench201.arch_index). A
search is charged one query per table read of a cell other than its input, whose own
accuracy is known: the question is how many trained networks it costs to improve a cell.
Ties keep the input: a transformation is only worth applying if it is strictly better.
"""

import itertools

import numpy as np

from nat_tf.space import nasbench201
from nat_tf.space import ops

KS = (1, 10, 50)
SKIP = nasbench201.OP_LIST.index(ops.SKIP)
POOL = nasbench201.OP_LIST.index("avg_pool_3x3")
NUM_OPS = len(nasbench201.OP_LIST)
# Largest [inputs, candidates, edges] block built at once: bounds the oracle's memory.
_BLOCK = 2 ** 19


class Reach:
  """What one transformation under `action_space` reaches from each input cell (table
  rows `rows`): `valid` [n, 6, actions], and `ops` [n, 6, NUM_OPS], whether an edge can
  hold an op afterwards (its own op included: some action keeps it)."""

  def __init__(self, action_space, rows):
    self.action_space = action_space
    self.rows = np.asarray(rows)
    self.op_ids = nasbench201.from_index(self.rows)
    self.valid = action_space.valid[0][self.op_ids]  # edges are never strided
    targets = action_space.result[self.op_ids]
    self.ops = np.zeros(self.op_ids.shape + (NUM_OPS,), bool)
    np.put_along_axis(self.ops, np.where(self.valid, targets, self.op_ids[..., None]), True, -1)

  def __len__(self):
    return len(self.rows)

  def candidates(self):
    """[n]: the distinct cells one transformation reaches, the input among them."""
    return self.ops.sum(-1).prod(-1)

  def rows_of(self, actions):
    """Table rows of the cells that `actions` [n, ..., 6] make of the inputs; an invalid
    action is a bug of its caller, so it raises."""
    op_ids = self.op_ids.reshape((len(self),) + (1,) * (actions.ndim - 2) + (-1,))
    if not self.action_space.valid[0][op_ids, actions].all():
      raise ValueError("an action is not valid on its edge")
    return nasbench201.arch_index(self.action_space.result[op_ids, actions])


def keep_best(input_rows, candidate_rows, accuracy, usable=True):
  """[n]: the row kept of input_rows [n] and candidate_rows [n, k]: the input, unless a
  candidate (where `usable` [n, k]) is strictly more accurate (then the first best)."""
  scores = np.where(usable, accuracy[candidate_rows], -np.inf)
  best = np.argmax(scores, axis=1)[:, None]
  better = np.take_along_axis(scores, best, 1)[:, 0] > accuracy[input_rows]
  return np.where(better, np.take_along_axis(candidate_rows, best, 1)[:, 0], input_rows)


def best_of(reach, candidate_rows, accuracy):
  """{k: kept rows [n]} for each k of KS: the best of the input and the first k of
  candidate_rows [n, max(KS)], so every k reads a prefix of the same samples."""
  return {k: keep_best(reach.rows, candidate_rows[:, :k], accuracy) for k in KS}


def distinct_new(reach, candidate_rows):
  """[n]: the distinct cells other than the input among candidate_rows [n, k]: the queries
  a search that never read a cell twice would have spent."""
  ordered = np.sort(candidate_rows, axis=1)
  distinct = 1 + (np.diff(ordered, axis=1) != 0).sum(1)
  return distinct - (candidate_rows == reach.rows[:, None]).any(1)


def uniform_actions(reach, samples, rng):
  """[n, samples, 6]: each edge's action uniform over its valid ones (what
  control_policies.UniformValidPolicy draws)."""
  counts = reach.valid.sum(-1)
  order = np.argsort(~reach.valid, axis=-1, kind="stable")  # valid actions first
  picks = (rng.random((len(reach), samples, nasbench201.NUM_EDGES)) * counts[:, None]).astype(int)
  return np.take_along_axis(order[:, None], picks[..., None], -1)[..., 0]


def _neighbours(reach_ops, op_ids):
  """Cells one edge away from op_ids [c, 6] with ops reach_ops [c, 6, NUM_OPS] (a Reach's
  `ops`) allows: (rows [c, 6 * NUM_OPS], whether each is such a change)."""
  edges = np.eye(nasbench201.NUM_EDGES, dtype=bool)[None, :, None, :]
  changed = np.where(edges, np.arange(NUM_OPS)[None, None, :, None], op_ids[:, None, None, :])
  allowed = reach_ops & (np.arange(NUM_OPS) != op_ids[..., None])
  return nasbench201.arch_index(changed).reshape(len(op_ids), -1), allowed.reshape(len(op_ids), -1)


def hill_climb(reach, accuracy, rng, chunk=1024):
  """First-improvement hill-climbing from each input: read a random single-edge change of
  the current cell not read before, move to it if it is strictly better; until max(KS)
  queries or no such change is left. {k: (kept rows [n], queries spent [n])} after k
  queries for each k of KS (one climb: k's result is where the max(KS) climb stood)."""
  kept = {k: (np.empty(len(reach), np.int64), np.empty(len(reach), np.int64)) for k in KS}
  for start in range(0, len(reach), chunk):
    part = slice(start, start + chunk)
    current, op_ids = reach.rows[part].astype(np.int64), reach.op_ids[part]
    lines = np.arange(len(current))
    read = np.zeros((len(current), nasbench201.NUM_ARCHS), bool)
    read[lines, current] = True  # the input's accuracy is known
    spent = np.zeros(len(current), np.int64)
    for step in range(1, max(KS) + 1):
      rows, allowed = _neighbours(reach.ops[part], op_ids)
      untried = allowed & ~read[lines[:, None], rows]
      keys = np.where(untried, rng.random(untried.shape), -1.0)
      pick = np.argmax(keys, axis=1)
      active = untried[lines, pick]
      tried = rows[lines, pick]
      read[lines[active], tried[active]] = True
      spent += active
      move = active & (accuracy[tried] > accuracy[current])
      current = np.where(move, tried, current)
      op_ids = np.where(move[:, None], nasbench201.from_index(current), op_ids)
      if step in kept:
        kept[step][0][part], kept[step][1][part] = current, spent
  return kept


def heuristics(reach):
  """{name: rows [n]} of the query-free rules: 'skip everywhere' (every edge that can become
  a skip does) and 'no pooling' (every pooling edge becomes a skip, where it can)."""
  can_skip = reach.ops[..., SKIP]
  rules = {"skip everywhere": can_skip, "no pooling": can_skip & (reach.op_ids == POOL)}
  return {name: nasbench201.arch_index(np.where(where, SKIP, reach.op_ids))
          for name, where in rules.items()}


def oracle(reach, accuracy, among=None):
  """[n]: the row of the best cell one transformation reaches from each input, by
  enumerating every combination of valid per-edge actions (the input when none is
  strictly better). `among` [NUM_ARCHS] (optional): labels of the rows; then only cells
  with the input's label count (e.g. cells that compute what the input computes)."""
  combos = np.array(list(itertools.product(range(reach.action_space.num_actions),
                                           repeat=nasbench201.NUM_EDGES)))
  chunk = max(1, _BLOCK // (len(combos) * nasbench201.NUM_EDGES))
  kept = []
  for start in range(0, len(reach), chunk):
    inputs = reach.rows[start:start + chunk]
    op_ids = reach.op_ids[start:start + chunk, None, :]
    usable = reach.action_space.valid[0][op_ids, combos].all(-1)
    rows = nasbench201.arch_index(reach.action_space.result[op_ids, combos])
    if among is not None:
      usable &= among[rows] == among[inputs][:, None]
    kept.append(keep_best(inputs, rows, accuracy, usable))
  return np.concatenate(kept)


def equivalence_classes():
  """[NUM_ARCHS]: each row's cell with every edge that cannot reach the output made null.

  In the benchmark's network such an edge's op computes a value nothing reads, so cells
  with the same label compute the same function and differ in the table only by the
  training run (its random initialisation and data order): the spread of their values
  measures the table's noise. (Edges that only read zeros are not merged: a conv on zeros
  still adds its BN's learned shift.)"""
  op_ids = nasbench201.from_index(np.arange(nasbench201.NUM_ARCHS)).copy()
  null = nasbench201.OP_LIST.index(ops.NULL)
  edge = {pair: index for index, pair in enumerate(nasbench201.EDGES)}
  reaches = {nasbench201.OUTPUT_NODE: np.ones(len(op_ids), bool)}
  for node in (2, 1):  # a node reaches the output through a non-null edge to one that does
    reaches[node] = np.zeros(len(op_ids), bool)
    for target in range(node + 1, nasbench201.OUTPUT_NODE + 1):
      reaches[node] |= reaches[target] & (op_ids[:, edge[node, target]] != null)
  for (_, target), index in edge.items():
    op_ids[~reaches[target], index] = null
  return nasbench201.arch_index(op_ids)


def noise_sd(accuracy, classes, low=-np.inf, high=np.inf):
  """(pooled within-class standard deviation of `accuracy`, rows it pools) over the classes
  of `classes` (labels [NUM_ARCHS]) with more than one member and a mean in [low, high):
  the table's noise where classes are cells computing the same function."""
  _, inverse, sizes = np.unique(classes, return_inverse=True, return_counts=True)
  means = np.bincount(inverse, accuracy) / sizes
  pooled = (sizes > 1) & (means >= low) & (means < high)
  members = pooled[inverse]
  squares = ((accuracy - means[inverse]) ** 2)[members].sum()
  return float(np.sqrt(squares / (members.sum() - pooled.sum()))), int(members.sum())


def noise_by_level(accuracy, classes, levels=8):
  """[NUM_ARCHS]: each row's noise SD, noise_sd over the classes whose mean lies in the same
  of `levels` accuracy ranges (quantiles of the shared classes' means) as the row's
  accuracy. The noise differs with accuracy: none among cells stuck at chance, most
  among cells that train unstably, so one SD for all would misstate it."""
  _, inverse, sizes = np.unique(classes, return_inverse=True, return_counts=True)
  means = (np.bincount(inverse, accuracy) / sizes)[sizes > 1]
  edges = np.quantile(means, np.linspace(0, 1, levels + 1)[1:-1])
  bounds = np.concatenate([[-np.inf], edges, [np.inf]])
  sds = np.array([noise_sd(accuracy, classes, low, high)[0]
                  for low, high in zip(bounds[:-1], bounds[1:])])
  return sds[np.digitize(accuracy, edges)]


def optimism(reach, accuracy, sigma, rng, pick):
  """[n]: how much the gain of `pick` (accuracies [NUM_ARCHS] -> kept rows [n]: a search),
  read from `accuracy` plus Gaussian noise of SD `sigma` (per row: [NUM_ARCHS]), exceeds
  the same picks' gain on `accuracy`: the bias of keeping a maximum of noisy values, were
  `accuracy` the truth and `sigma` the noise of its entries."""
  noisy = accuracy + rng.normal(0.0, sigma, accuracy.shape)
  kept = pick(noisy)
  return (noisy[kept] - noisy[reach.rows]) - (accuracy[kept] - accuracy[reach.rows])


def network_madds():
  """[NUM_ARCHS]: the multiply-adds of the benchmark's network around each row's cell: the
  fixed rest of the network plus the six edges' ops summed over every cell
  (nasbench201.cell_op_cost_table; every edge is the same C -> C op at stride 1)."""
  per_op = np.array(nasbench201.cell_op_cost_table(nasbench201.OP_LIST, "madds"), np.int64)
  op_ids = nasbench201.from_index(np.arange(nasbench201.NUM_ARCHS))
  reference = nasbench201.from_op_ids(op_ids[0])
  rest = nasbench201.network_cost(reference).madds - per_op[op_ids[0]].sum()
  return rest + per_op[op_ids].sum(-1)
