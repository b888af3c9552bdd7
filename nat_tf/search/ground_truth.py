"""A search on NAS-Bench-201's table: the transformer trained against ground truth.

The supernet search (search_setup.py, train_eval.py) rewards the policy with a
weight-sharing supernet's guess of accuracy. Here the same environment, GCN policy
and REINFORCE agent are rewarded with the accuracy the benchmark measured by training
each cell's network to the end (rl/ground_truth_environment.py), so whether the policy
learned to improve cells can be checked exactly, on cells it never saw: the 15,625
cells are cut in two fixed halves (data/nasbench201_table.halves); input cells are
drawn from the first, and the held-out evaluation (policy_eval.py) and the report
(bench/nasbench201_report.py) use the second.

`gin/nasbench201.gin` switches bin/train to this search (`benchmark.name`); it has one
phase, the policy's, and the run folder holds what a supernet search's does
(checkpoints, status.json, TensorBoard summaries, config.gin, the policy export).
"""

import gin
import numpy as np
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from nat_tf.data import nasbench201_table
from nat_tf.errors import UsageError
from nat_tf.errors import check_finite
from nat_tf.errors import check_integer
from nat_tf.rl import agent as agent_lib
from nat_tf.rl import environment
from nat_tf.rl import ground_truth_environment as gt_environment
from nat_tf.rl import reward as reward_lib
from nat_tf.search import policy_trainer
from nat_tf.search import train_eval
from nat_tf.space import action_spaces
from nat_tf.space import graph
from nat_tf.space import nasbench201
from nat_tf.training import position
from nat_tf.training import step_loop

NASBENCH201 = "nasbench201"


@gin.configurable
def benchmark(name=None):
  """The benchmark whose table rewards the search ('nasbench201'), or None for the supernet
  search; bin/train, bin/derive and the programs that reopen a run read it from gin."""
  if name not in (None, NASBENCH201):
    raise UsageError(f"benchmark.name={name!r} is not known; use {NASBENCH201!r} or leave it "
                     "unbound for the supernet search")
  return name


@gin.configurable
class GroundTruthSetup:
  """The trainable parts of a search on the table and their inputs; `trackables` is what a
  checkpoint holds.

  table_path: the benchmark's table (a CSV `arch,cifar10,cifar100,ImageNet16-120` of
    NAS-Bench-201's validation accuracies in percent, one row per cell);
  dataset: the table column that rewards the search;
  archs_per_step: input cells transformed per policy step;
  split_seed: the seed of the fixed halves (train / held out) of the table's cells;
  cost_metric, cost_weight: the reward's (rl/reward.Reward); the masks already forbid every
    action that adds cost, so 0 rewards accuracy alone.
  """

  def __init__(self, table_path=None, dataset="cifar10", action_space="nat", archs_per_step=32,
               seed=1234, split_seed=0, cost_metric="madds", cost_weight=0.0):
    if not table_path:
      raise UsageError("GroundTruthSetup.table_path is not bound: give the NAS-Bench-201 table, "
                       "e.g. --gin_bindings=\"GroundTruthSetup.table_path = "
                       "'/path/to/nb201_val_accuracy.csv'\"")
    for name, value, minimum in (("archs_per_step", archs_per_step, 1), ("seed", seed, 0),
                                 ("split_seed", split_seed, 0)):
      check_integer(f"GroundTruthSetup.{name}", value, minimum)
    self.table = nasbench201_table.load(table_path)
    self.dataset = dataset
    self.accuracy = self.table.accuracy[:, nasbench201_table.dataset_column(dataset)] / 100.0
    self.train_rows, self.held_out_rows = nasbench201_table.halves(split_seed)
    self.strategy = tf.distribute.get_strategy()
    tf.keras.utils.set_random_seed(seed)
    self.seed = seed
    self.action_space = action_spaces.action_space(action_space, nasbench201.OP_LIST.name)
    self.inputs_generator = tf.random.Generator.from_seed(seed + 1)
    self.editor = environment.ArchitectureEditor(self.action_space, graph.NASBENCH201)
    reward = reward_lib.Reward(cost_metric, check_finite("GroundTruthSetup.cost_weight",
                                                         cost_weight))
    self.scorer = gt_environment.TableAccuracy(self.accuracy)
    self.environment = gt_environment.GroundTruthEnvironment(
        self.editor, self.scorer, self.train_rows,
        lambda metric: nasbench201.cell_op_cost_table(self.action_space.op_list, metric),
        self.inputs_generator, reward, batch_size=archs_per_step)
    self.state = position.SearchState(phases=position.SEARCH_PHASES[1:])
    self.agent, self.baseline = agent_lib.make_agent(
        ts.time_step_spec(self.editor.observe.spec), self.editor.action_spec,
        len(self.action_space.op_list), graph.NASBENCH201)
    self.policy_trainer = policy_trainer.PolicyTrainer(self.environment, self.agent,
                                                       self.baseline)

  def trackables(self):
    items = {"agent": self.agent, "inputs_generator": self.inputs_generator}
    if self.baseline:
      items["baseline"] = self.baseline
    return items

  def evaluation_inputs(self, count, seed):
    """Held-out cells [n, 1, 2, 6]: every cell of the held-out half when `count` is 0 or at
    least its size, else `count` of them drawn without replacement by `seed`."""
    rows = self.held_out_rows
    if 0 < count < len(rows):
      rows = np.sort(np.random.default_rng(seed).choice(rows, count, replace=False))
    return gt_environment.architectures_of_rows(tf.constant(rows, tf.int32))

  def held_out_scorer(self, batch_size):  # pylint: disable=unused-argument
    """The table: every cell's accuracy is known, so nothing is batched."""
    return self.scorer

  def encode(self, cell):
    """The [1, 2, 6] architecture of a NAS-Bench-201 cell."""
    nasbench201.check(cell)
    return np.array([[nasbench201.op_ids(cell), graph.NASBENCH201.fixed_sources]], np.int32)

  def transform(self, policy, cell, samples=1, seed=0):
    """`samples` transformations of `cell` by `policy` (greedy: all equal), as cells."""
    time_step = ts.restart(self.editor.observe(tf.constant(
        np.repeat(self.encode(cell)[None], samples, axis=0))), samples)
    actions = policy.distribution(time_step).action.sample(seed=tf.constant([seed, 1])).numpy()
    return [self.action_space.apply(cell, chosen[0], reduction=False) for chosen in actions]

  def describe(self, cell):
    """A cell's benchmark string, table accuracy (percent) and network cost."""
    costs = nasbench201.network_cost(cell)
    return {"cell": nasbench201.to_string(cell), "dataset": self.dataset,
            "accuracy": float(self.table.accuracy_of(cell, self.dataset)),
            "params": costs.params, "madds": costs.madds}


@gin.configurable(denylist=["root_dir"])
def train_ground_truth(root_dir, epochs=10, steps_per_epoch=50, checkpoint_every=100,
                       summary_every=1, log_every=50, max_nonfinite=10, target="resnet",
                       evaluate_cells=0):
  """Run (or resume) a search on the table in `root_dir`; returns the report of the greedy
  policy's transformation of `target` (a name of nasbench201.NAMED or a benchmark string).

  evaluate_cells: if > 0, the finished policy is also scored on that many held-out cells
    (every one of them if it is at least their number) against uniform and placement
    controls, into the report and `<root_dir>/policy_eval.json`.
  """
  step_loop.check_counts(
      "train_ground_truth", dict(epochs=epochs, evaluate_cells=evaluate_cells),
      dict(steps_per_epoch=steps_per_epoch, checkpoint_every=checkpoint_every,
           summary_every=summary_every, log_every=log_every, max_nonfinite=max_nonfinite))
  target_cell = nasbench201.lookup(target)  # a bad string fails before the table is read
  setup = GroundTruthSetup()
  phase = train_eval.policy_phase(setup, steps_per_epoch, lambda epoch, skip: None,
                                  summary_every)
  train_eval.run_phases(root_dir, setup, (phase,), epochs, chief=True, log_every=log_every,
                        checkpoint_every=checkpoint_every, max_nonfinite=max_nonfinite)
  result = report(setup, target_cell)
  train_eval.evaluate_and_export(root_dir, setup, result, evaluate_cells, chief=True)
  return result


def report(setup, cell):
  """The greedy policy's transformation of `cell`, both described (describe)."""
  transformed = setup.transform(setup.agent.policy, cell)[0]
  return {"before": setup.describe(cell), "after": setup.describe(transformed)}


def format_report(result):
  """The report as text: each cell with its table accuracy and cost, then the controls."""
  lines = []
  for name in ("before", "after"):
    cell = result[name]
    lines.append(f"{name:<6} {cell['cell']}  {cell['dataset']} accuracy {cell['accuracy']:.2f}%  "
                 f"params {cell['params']:,}  multiply-adds {cell['madds']:,}")
  if "held_out" in result:
    lines += ["", train_eval.format_held_out(result["held_out"], "the table")]
  return "\n".join(lines)
