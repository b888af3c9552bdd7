"""Genotype: an architecture as plain data, and its validation.

A cell is a DAG whose ops live on edges (the reference code): nodes 0 and 1 are the
cell's inputs, node t >= 2 sums exactly two incoming edges (f, t) with f < t,
and the cell outputs the concatenation of its `concat` nodes. Edges are kept in
the reference's order: sorted by target, two per node, so edge 2i and 2i+1 feed
node i + 2 and an edge's position is its index in every tensor built from it.
"""

import collections
import dataclasses
from typing import Tuple

from nat_tf.errors import UsageError
from nat_tf.space import ops


# Far above any published cell (4 or 5 nodes) and any supernet one can train, low enough
# that reading, validating and drawing a cell stays instant.
MAX_NODES = 1000


def node_name(node):
  """How reports, warnings and diagrams name node `node`: its index here, so a node has one
  number in genotype files, printed text and pictures; the inputs also by DARTS's names."""
  return f"{node} ({('c_{k-2}', 'c_{k-1}')[node]})" if node < 2 else str(node)


class GenotypeError(UsageError):
  """A genotype that is malformed; the message names the cell and the edge."""


@dataclasses.dataclass(frozen=True)
class Edge:
  op: str
  src: int
  dst: int


@dataclasses.dataclass(frozen=True)
class Cell:
  edges: Tuple[Edge, ...]
  concat: Tuple[int, ...]

  @property
  def num_nodes(self):
    """Number of intermediate nodes N."""
    return len(self.edges) // 2

  @property
  def ops(self):
    return tuple(edge.op for edge in self.edges)

  @property
  def sources(self):
    return tuple(edge.src for edge in self.edges)

  def with_ops(self, new_ops):
    """The same topology and concat with other ops, one per edge."""
    if len(new_ops) != len(self.edges):
      raise GenotypeError(f"{len(new_ops)} ops given for a cell of {len(self.edges)} edges")
    return Cell(tuple(Edge(op, e.src, e.dst) for op, e in zip(new_ops, self.edges)),
                self.concat)

  def loose_ends(self):
    """Intermediate nodes never used as an edge source (ENAS-style output).

    A null edge still marks its source as used, as in the reference supernet, so
    the output never changes width when an op is removed.
    """
    used = set(self.sources)
    return tuple(t for t in range(2, self.num_nodes + 2) if t not in used)

  def reads(self, node):
    """Whether a live (non-null) edge reads `node`."""
    return any(edge.src == node and edge.op != ops.NULL for edge in self.edges)

  def all_nodes(self):
    """Every intermediate node (DARTS-style output)."""
    return tuple(range(2, self.num_nodes + 2))

  def dead_nodes(self):
    """Intermediate nodes whose every input is null, directly or through other such nodes:
    what they compute does not depend on the cell's inputs (zeros in the supernet, whose
    batch-norm has no offset; a constant in a trained network)."""
    dead = set()
    for node in self.all_nodes():
      if all(e.op == ops.NULL or e.src in dead for e in self._inputs(node)):
        dead.add(node)
    return tuple(sorted(dead))

  def live(self, nodes):
    """The nodes of `nodes` that are not dead."""
    dead = set(self.dead_nodes())
    return tuple(node for node in nodes if node not in dead)

  def dead_outputs(self):
    """Output nodes that are dead (see dead_nodes)."""
    dead = set(self.dead_nodes())
    return tuple(node for node in self.concat if node in dead)

  def disconnected(self):
    """Whether no input of the cell reaches its outputs through non-null edges: the cell
    computes a constant, and a network of such cells, or of a chain of cells reading only
    their previous cell, cannot tell its classes apart (it trains to chance)."""
    return not {0, 1} & self._reaching(self.concat)

  def pruned(self):
    """This cell without the computation that cannot change its output.

    Dead nodes leave the concat, so the next cells' preprocessing reads fewer channels;
    an edge that reads a dead node (an op on a constant) or feeds a node whose value
    reaches no output (outside the concat and read by null edges only: a loose end
    that a null edge made used) becomes null. A cell whose every output is dead keeps
    its last one, as zeros: a cell needs an output, and the DARTS skeleton still passes
    the cell's inputs on through the next cell's other input. The supernet scores the
    pruned cell exactly as this one (dead nodes are zeros there, and so is any op of
    them), and nulling an edge is a valid action under every rule, so pruning never
    adds cost nor leaves the transformation space. Pruning a pruned cell changes nothing.
    """
    dead = set(self.dead_nodes())
    concat = tuple(node for node in self.concat if node not in dead) or self.concat[-1:]
    useful = self._reaching(concat)
    new_ops = [ops.NULL if e.src in dead or e.dst not in useful else e.op for e in self.edges]
    return dataclasses.replace(self.with_ops(new_ops), concat=concat)

  def _inputs(self, node):
    return self.edges[2 * (node - 2):2 * (node - 1)]  # edges are sorted by target

  def _reaching(self, outputs):
    """Nodes whose value reaches `outputs` through non-null edges (outputs included)."""
    reaching = set(outputs)
    for node in reversed(self.all_nodes()):
      if node in reaching:
        reaching.update(e.src for e in self._inputs(node) if e.op != ops.NULL)
    return reaching


@dataclasses.dataclass(frozen=True)
class Genotype:
  normal: Cell
  reduce: Cell

  @property
  def num_nodes(self):
    return self.normal.num_nodes

  @property
  def cells(self):
    return {"normal": self.normal, "reduce": self.reduce}

  def replace(self, **cells):
    return dataclasses.replace(self, **cells)

  def disconnected(self):
    """Whether some cell is disconnected (Cell.disconnected): a dead network."""
    return self.normal.disconnected() or self.reduce.disconnected()

  def pruned(self):
    """Both cells pruned (Cell.pruned)."""
    return Genotype(self.normal.pruned(), self.reduce.pruned())


def make_cell(edges, concat):
  """A Cell from (op, src, dst) triples (validate the Genotype that holds it)."""
  return Cell(tuple(Edge(str(op), int(src), int(dst)) for op, src, dst in edges),
              tuple(int(n) for n in concat))


def make_genotype(normal, normal_concat, reduce, reduce_concat):
  """A validated Genotype from triple lists and concat lists."""
  genotype = Genotype(make_cell(normal, normal_concat), make_cell(reduce, reduce_concat))
  validate(genotype)
  return genotype


def validate(genotype, op_list=None):
  """Check the structure of both cells (and their ops against `op_list`).

  Raises GenotypeError naming the cell and edge at fault. Both cells must have
  the same node count, since the network and the policy are built for one N.
  """
  for name, cell in genotype.cells.items():
    _validate_cell(name, cell, op_list)
  if genotype.normal.num_nodes != genotype.reduce.num_nodes:
    raise GenotypeError(
        f"normal cell has {genotype.normal.num_nodes} nodes but reduce cell has "
        f"{genotype.reduce.num_nodes}; both cells must have the same node count")


def _check_two_inputs_per_node(name, cell):
  """One pass over the edges (a per-node scan made large cells quadratic)."""
  inputs = collections.defaultdict(list)
  for index, edge in enumerate(cell.edges):
    inputs[edge.dst].append(index)
  for node in range(2, cell.num_nodes + 2):
    if len(inputs[node]) != 2:
      raise GenotypeError(f"{name} cell: node {node} has {len(inputs[node])} inputs (edges "
                          f"{inputs[node]}); every intermediate node needs exactly two")


def _validate_cell(name, cell, op_list):
  if not cell.edges or len(cell.edges) % 2:
    raise GenotypeError(f"{name} cell has {len(cell.edges)} edges; every intermediate node "
                        "needs exactly two inputs, so the count must be even and positive")
  num_nodes = cell.num_nodes
  if num_nodes > MAX_NODES:
    raise GenotypeError(f"{name} cell has {num_nodes} nodes; a cell has at most {MAX_NODES}")
  for index, edge in enumerate(cell.edges):
    where = f"{name} cell, edge {index} {(edge.op, edge.src, edge.dst)}"
    try:
      ops.check_known(edge.op)
      if op_list is not None:
        op_list.op_id(edge.op)
    except UsageError as error:
      raise GenotypeError(f"{where}: {error}") from None
    if not 2 <= edge.dst <= num_nodes + 1:
      raise GenotypeError(f"{where}: target node {edge.dst} is out of range 2..{num_nodes + 1}")
    if not 0 <= edge.src < edge.dst:
      raise GenotypeError(f"{where}: source node {edge.src} must be in 0..{edge.dst - 1}")
  _check_two_inputs_per_node(name, cell)
  targets = [edge.dst for edge in cell.edges]
  if targets != sorted(targets):
    raise GenotypeError(f"{name} cell: edges must be sorted by target node, got targets "
                        f"{targets}")
  if not cell.concat:
    raise GenotypeError(f"{name} cell: the concat list is empty")
  named = set()
  for node in cell.concat:
    if not 2 <= node <= num_nodes + 1:
      raise GenotypeError(f"{name} cell: concat names node {node}, which does not exist "
                          f"(intermediate nodes are 2..{num_nodes + 1})")
    if node in named:  # also bounds the list: at most one entry per node
      raise GenotypeError(f"{name} cell: concat names node {node} twice; name each output "
                          "node once")
    named.add(node)
