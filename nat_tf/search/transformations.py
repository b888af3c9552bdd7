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


def encode(genotype, transformer):
  """The [2, 2, E] architecture of `genotype`, or a UsageError if the policy can't take it."""
  if genotype.num_nodes != transformer.num_nodes:
    raise UsageError(f"the genotype has {genotype.num_nodes} intermediate nodes per cell but the "
                     f"policy was trained on {transformer.num_nodes}; train a transformer with "
                     f"Supernet.num_nodes = {genotype.num_nodes} (e.g. gin/enas.gin for 5)")
  return arch_lib.from_genotype(genotype, transformer.action_space.op_list)


def actions(policy, transformer, architectures):
  """The policy's actions [M, 2, E] (numpy) for M architectures [M, 2, 2, E]."""
  observation = transformer.observe(tf.constant(architectures, tf.int32))
  return policy.action(ts.restart(observation, len(architectures))).action.numpy()


def transform(policy, transformer, genotype, samples=1):
  """`samples` transformed versions of `genotype` by `policy` (greedy: all equal)."""
  encoded = encode(genotype, transformer)
  chosen = actions(policy, transformer, np.repeat(encoded[None], samples, axis=0))
  space = transformer.action_space
  return [space.apply_genotype(genotype, a[0], a[1]) for a in chosen]
