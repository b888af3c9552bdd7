"""Transforming genotypes with a policy: the bridge from tensors back to genotypes.

A policy acts on observation tensors; users hold genotypes. These helpers encode
a genotype for a policy (checking that the policy can handle it), ask the policy
for actions, and apply them with the search space's own rules, so the result is
validated by the same code that defines the space.
"""

import numpy as np
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from nat_tf.errors import UsageError
from nat_tf.nn import architecture as arch_lib
from nat_tf.space import ops


# Which transformers score cells that output their loose ends / every intermediate node.
_FAMILY_HINTS = {"its loose ends": "a loose-end transformer (gin/quickstart_loose_end.gin for 4 "
                                   "nodes, gin/quickstart_enas.gin for 5; gin/loose_end.gin "
                                   "and gin/enas.gin on CIFAR-10)",
                 "every intermediate node": "a fully-concat transformer (gin/quickstart.gin or "
                                            "gin/quickstart_natpp.gin; gin/darts.gin on CIFAR-10)"}


def encode(genotype, editor):
  """The [2, 2, E] architecture of `genotype`, or a UsageError if the policy can't take it."""
  if genotype.num_nodes != editor.num_nodes:
    raise UsageError(f"the genotype has {genotype.num_nodes} intermediate nodes per cell but the "
                     f"policy was trained on {editor.num_nodes}; train a transformer with "
                     f"Supernet.num_nodes = {genotype.num_nodes} (e.g. gin/enas.gin for 5)")
  op_list = editor.action_space.op_list
  _check_output_rule(genotype, ops.outputs_loose_ends(op_list), op_list.name)
  return arch_lib.from_genotype(genotype, op_list)


def _check_output_rule(genotype, loose_ends, op_list_name):
  """The supernet scores a cell's output by its op list's rule (every node, or the loose
  ends), so a genotype with another concat would be scored as a different cell. Dead
  nodes are zeros in the supernet, so a concat may leave them out: a pruned cell
  (Cell.pruned) is scored exactly as what it is."""
  for name, cell in genotype.cells.items():
    rules = {"its loose ends": cell.loose_ends(), "every intermediate node": cell.all_nodes()}
    rule = "its loose ends" if loose_ends else "every intermediate node"
    live = cell.live(cell.concat)
    if live == cell.live(rules[rule]):
      continue
    followed = [other for other, nodes in rules.items() if live == cell.live(nodes)]
    fix = (f"use {_FAMILY_HINTS[followed[0]]}" if followed else
           "no transformer scores such a cell: its concat must be every intermediate node "
           f"{list(rules['every intermediate node'])} or its loose ends "
           f"{list(rules['its loose ends'])}")
    raise UsageError(f"the {name} cell outputs nodes {list(cell.concat)}, but a transformer over "
                     f"the {op_list_name} op list scores cells that output {rule} "
                     f"({list(rules[rule])} here); {fix}")


def actions(policy, editor, architectures):
  """The policy's actions [M, 2, E] (numpy) for M architectures [M, 2, 2, E]."""
  observation = editor.observe(tf.constant(architectures, tf.int32))
  return policy.action(ts.restart(observation, len(architectures))).action.numpy()


def transform(policy, editor, genotype, samples=1):
  """`samples` transformed versions of `genotype` by `policy` (greedy: all equal)."""
  encoded = encode(genotype, editor)
  chosen = actions(policy, editor, np.repeat(encoded[None], samples, axis=0))
  space = editor.action_space
  return [space.apply_genotype(genotype, a[0], a[1]) for a in chosen]
