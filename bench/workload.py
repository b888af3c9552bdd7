"""The reference search configuration as a benchmark workload (issue 8).

C=20, 8 cells, 4 nodes, the 9-op fully_concat list, 32x32x3 random inputs, one
input architecture per policy step, a new random architecture every step: the
setting of the PyTorch figures the benchmark is compared with. The parts are the
project's own (Supernet, WeightTrainer, Scorer, environment, agent, PolicyTrainer),
built from the same gin parameters as a search, on random data instead of CIFAR-10
(no data set is needed, and the speed does not depend on pixel values).

Architectures are drawn by seeded generators, so every variant benchmarked runs the
same sequence; twin generators replay that sequence to count its multiply-adds.
"""

import numpy as np
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from nat_tf.nn import architecture as arch_lib
from nat_tf.nn import supernet as supernet_lib
from nat_tf.rl import agent as agent_lib
from nat_tf.rl import environment
from nat_tf.rl import reward
from nat_tf.search import policy_trainer
from nat_tf.search import supernet_steps
from nat_tf.space import action_spaces
from nat_tf.space import cost
from nat_tf.space import genotype
from nat_tf.space import sampling

CLASSES, IMAGE_SIZE, CHANNELS = 10, 32, 3
WEIGHTS_SEED, INPUTS_SEED = 5, 6


class Workload:
  """Everything a search step touches, under the default strategy, on random batches."""

  def __init__(self, batch_size, seed=1234, distinct_batches=4):
    tf.random.set_seed(seed)
    self.batch_size = batch_size
    self.strategy = tf.distribute.get_strategy()
    space = action_spaces.action_space("nat", "fully_concat")
    self.supernet = supernet_lib.Supernet(space.op_list, CLASSES, IMAGE_SIZE, CHANNELS)
    self.weight_trainer = supernet_steps.WeightTrainer(
        self.supernet, self.strategy, tf.random.Generator.from_seed(WEIGHTS_SEED), batch_size)
    self.scorer = supernet_steps.Scorer(self.supernet, self.strategy, batch_size)
    num_nodes = self.supernet.num_nodes
    self.editor = environment.ArchitectureEditor(space, num_nodes)
    self.environment = environment.TransformationEnvironment(
        self.editor, self.scorer, self.supernet.skeleton,
        tf.random.Generator.from_seed(INPUTS_SEED), reward.Reward(), batch_size=1)
    self.agent, baseline = agent_lib.make_agent(
        ts.time_step_spec(self.editor.observe.spec), self.editor.action_spec,
        len(space.op_list), num_nodes)
    self.policy_trainer = policy_trainer.PolicyTrainer(self.environment, self.agent, baseline)
    images = tf.random.stateless_normal([distinct_batches, batch_size, IMAGE_SIZE, IMAGE_SIZE,
                                         CHANNELS], [seed, 0])
    labels = tf.random.stateless_uniform([distinct_batches, batch_size], [seed, 1], 0, CLASSES,
                                         tf.int32)
    self.data = tf.data.Dataset.from_tensor_slices((images, labels)).repeat().prefetch(2)

  def batches(self):
    """A distributed iterator over the random batches, as the search loop makes them."""
    return iter(self.strategy.experimental_distribute_dataset(self.data))

  def random_architectures(self, count, generator):
    return arch_lib.random(generator, count, self.supernet.num_nodes, self.supernet.op_list)

  def replay(self, seed):
    """fn() -> the next architecture [2, 2, E] (numpy) that a generator seeded `seed`
    hands a step drawing one at a time (WeightTrainer, the environment's inputs)."""
    twin = tf.random.Generator.from_seed(seed)
    return lambda: self.random_architectures(1, twin)[0].numpy()

  def madds(self, architecture):
    """(multiply-adds of one image's forward pass, of its cells' edge ops alone) for
    `architecture` [2, 2, E], by the analytic cost model."""
    cells = [sampling.cell_from_arrays(cell[arch_lib.OP_IDS], cell[arch_lib.SOURCES],
                                       self.supernet.op_list) for cell in np.asarray(architecture)]
    network = genotype.Genotype(*cells)
    return (cost.network_cost(network, self.supernet.skeleton, auxiliary=False).madds,
            cost.cells_op_cost(network, self.supernet.skeleton))
