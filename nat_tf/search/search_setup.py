"""Everything a search run is made of, built from gin: data, supernet, MDP, agent.

Training (`train_eval`), derivation and the baselines all build the same
SearchSetup from a run's gin config and restore its checkpoint, so what they
score and transform is exactly what was trained.
"""

import gin
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from nat_tf.data import datasets
from nat_tf.data import pipeline
from nat_tf.data import splits
from nat_tf.errors import check_finite
from nat_tf.errors import check_integer
from nat_tf.nn import architecture as arch_lib
from nat_tf.nn import supernet as supernet_lib
from nat_tf.rl import agent as agent_lib
from nat_tf.rl import environment
from nat_tf.rl import reward as reward_lib
from nat_tf.search import holdout
from nat_tf.search import policy_trainer
from nat_tf.search import supernet_steps
from nat_tf.space import action_spaces
from nat_tf.training import position
from nat_tf.training import strategy as strategy_lib


@gin.configurable
class SearchSetup:
  """The trainable parts of a search and their data; `trackables` is what a checkpoint holds.

  `cost_metric` ('madds' or 'params') and `cost_weight` are the reward's
  (rl/reward.Reward): the accuracy change minus `cost_weight` times the relative change of
  the cells' op cost in `cost_metric`; 0 is the paper's objective.
  """

  def __init__(self, dataset="cifar10", data_dir=None, op_list="fully_concat", action_space="nat",
               batch_size=64, archs_per_step=1, seed=1234, cost_metric="madds",
               cost_weight=0.0):
    for name, value, minimum in (("batch_size", batch_size, 1),
                                 ("archs_per_step", archs_per_step, 1), ("seed", seed, 0)):
      check_integer(f"SearchSetup.{name}", value, minimum)
    # First: MultiWorkerMirroredStrategy must configure TensorFlow before anything runs.
    self.strategy = strategy_lib.make_strategy()
    # Keras seeds its initialisers from Python's `random` unless this sets it: without it
    # the policy of each worker of a multi-worker run would start from other weights.
    tf.keras.utils.set_random_seed(seed)
    self.seed = seed
    self.batch_size = batch_size
    self.info = datasets.info(dataset)
    self.splits = splits.search_splits(dataset, data_dir=data_dir, seed=seed)
    self.action_space = action_spaces.action_space(action_space, op_list)
    # Plain variables, outside the strategy: architectures are drawn once for all replicas.
    self.weights_generator = tf.random.Generator.from_seed(seed)
    self.inputs_generator = tf.random.Generator.from_seed(seed + 1)
    with self.strategy.scope():
      self.supernet = supernet_lib.Supernet(self.action_space.op_list, self.info.num_classes,
                                            self.info.image_size, self.info.channels)
    num_nodes = self.supernet.num_nodes
    self.weight_trainer = supernet_steps.WeightTrainer(self.supernet, self.strategy,
                                                       self.weights_generator, batch_size)
    self.scorer = supernet_steps.Scorer(self.supernet, self.strategy, batch_size)
    self.editor = environment.ArchitectureEditor(self.action_space, num_nodes)
    reward = reward_lib.Reward(cost_metric, check_finite("SearchSetup.cost_weight", cost_weight))
    self.environment = environment.TransformationEnvironment(
        self.editor, self.scorer, self.supernet.skeleton, self.inputs_generator, reward,
        batch_size=archs_per_step)
    self.state = position.SearchState()
    self.agent, self.baseline = agent_lib.make_agent(
        ts.time_step_spec(self.editor.observe.spec), self.editor.action_spec,
        len(self.action_space.op_list), num_nodes)
    self.policy_trainer = policy_trainer.PolicyTrainer(self.environment, self.agent,
                                                       self.baseline)

  def evaluation_inputs(self, count, seed):
    """`count` random input cells [count, 2, 2, E] drawn as the search draws its inputs, from
    their own `seed`: the held-out evaluation's cells (search/policy_eval.py)."""
    return arch_lib.random(tf.random.Generator.from_seed(seed), count, self.editor.num_nodes,
                           self.action_space.op_list)

  def held_out_scorer(self, batch_size):
    """What scores architectures for the held-out evaluation: the supernet on the held-out
    split, `batch_size` images per call."""
    return holdout.HoldoutScorer(self, batch_size)

  def trackables(self):
    items = {"supernet": self.supernet, "weight_sgd": self.weight_trainer.sgd,
             "agent": self.agent, "weights_generator": self.weights_generator,
             "inputs_generator": self.inputs_generator}
    if self.baseline:
      items["baseline"] = self.baseline
    return items

  def epoch_batches(self, split, epoch, skip=0, shift=0):
    """The distributed iterator over `split`'s batches of `epoch`, after `skip` batches.

    `shift` separates the shuffles of the weights and policy splits.
    """
    data = pipeline.batches(split, self.info, self.batch_size, training=True,
                            seed=self.seed + shift, epoch=epoch).skip(skip)
    return iter(self.strategy.experimental_distribute_dataset(data))
