"""NAT's reward: what the policy is trained on, and what its held-out evaluation reports.

    reward = acc(transformed) - acc(input)
             - cost_weight * (cost(transformed) - cost(input)) / cost(input)

where cost is the cells' op cost in `cost_metric` (multiply-adds or parameters, from
the analytic model's table, `environment.CellCost`); cost_weight 0 is the paper's
objective. The environment scores its minibatch with the Reward it was built with, and
the held-out evaluation (`search/policy_eval`) scores the held-out split with the same
object, so the two cannot weigh or measure cost differently.

Both knobs are on the signature a user configures a search with:
`SearchSetup.cost_metric` and `SearchSetup.cost_weight` (the weight was
`TransformationEnvironment.cost_weight` before; run folders saved with that name still
read, nat_tf.run_config).
"""

import dataclasses
import typing

import tensorflow as tf


class RewardParts(typing.NamedTuple):
  """A reward and the two changes it weighs, per transformation."""
  reward: tf.Tensor
  accuracy_change: tf.Tensor
  cost_change: tf.Tensor  # relative change of the cells' op cost


def relative_change(before, after):
  """(after - before) / before, 0 where `before` is 0 (cells of no op cost)."""
  return tf.math.divide_no_nan(after - before, before)


@dataclasses.dataclass(frozen=True)
class Reward:
  """The reward's cost metric ('madds' or 'params') and the weight of its cost change."""
  cost_metric: str = "madds"
  cost_weight: float = 0.0

  def __call__(self, accuracy_in, accuracy_out, cost_in, cost_out):
    """RewardParts of transformations from inputs of accuracy `accuracy_in` and cost
    `cost_in` (in `cost_metric`) to outputs of `accuracy_out` and `cost_out`."""
    accuracy_change = tf.convert_to_tensor(accuracy_out - accuracy_in)
    cost_change = relative_change(cost_in, cost_out)
    # Costs are float32; held-out accuracies, means over the split, are float64.
    weighted = tf.cast(self.cost_weight * cost_change, accuracy_change.dtype)
    return RewardParts(accuracy_change - weighted, accuracy_change, cost_change)
