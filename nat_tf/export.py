"""SavedModel export of trained networks, for serving and sharing.

The export holds the network's variables and one traced inference function, not
the Keras objects, so it saves quickly, reloads without nat_tf and serves the
same logits. Its `serving_default` signature takes float32 `images`
[batch, H, W, C] and returns {"logits": [batch, classes]}. Exports are written
through `atomic.directory`: a reader sees the old export or the new one.
"""

import os

import tensorflow as tf

from nat_tf import atomic
from nat_tf.errors import UsageError

SIGNATURE = "serving_default"


class _Serving(tf.Module):
  """The variables of `model` and its inference pass; what the SavedModel holds."""

  def __init__(self, model):
    super().__init__(name="network")
    self.model_variables = list(model.variables)
    images = tf.TensorSpec((None,) + tuple(model.image_shape), tf.float32, name="images")
    self.logits = tf.function(lambda images: {"logits": model(images, training=False)},
                              input_signature=[images])


def export_network(model, path):
  """Write a built `nat_tf.nn.network.Network` to `path` as a SavedModel; returns `path`."""
  serving = _Serving(model)
  with atomic.directory(path) as folder:
    tf.saved_model.save(serving, folder, signatures={SIGNATURE: serving.logits})
  return path


def load_network(path):
  """The serving function of an export: call it with images=..., get {"logits": ...}."""
  return tf.saved_model.load(path).signatures[SIGNATURE]


POLICY_KINDS = ("greedy", "sampling")


def export_policy(agent, path):
  """Write the agent's greedy and sampling policies as TF-Agents SavedModels.

  `path/greedy` and `path/sampling` each load with `tf.saved_model.load` (import
  tensorflow_probability first) and take a batched TimeStep whose observation is
  the dict of `nat_tf.rl.observation.ObservationBuilder.spec`.
  """
  from tf_agents.policies import policy_saver  # pylint: disable=import-outside-toplevel
  with atomic.directory(path) as folder:
    for kind, policy in zip(POLICY_KINDS, (agent.policy, agent.collect_policy)):
      policy_saver.PolicySaver(policy, batch_size=None).save(f"{folder}/{kind}")
  return path


def load_policies(path, observation_spec):
  """(greedy, sampling) policies of an `export_policy` folder; a UsageError unless they
  observe cells as `observation_spec` describes (node count, op list, action space)."""
  import tensorflow_probability  # pylint: disable=import-outside-toplevel,unused-import
  from tf_agents.policies import policy_saver  # pylint: disable=import-outside-toplevel
  from tf_agents.specs import tensor_spec  # pylint: disable=import-outside-toplevel
  folders = [os.path.join(path, kind) for kind in POLICY_KINDS]
  missing = [f for f in folders if not os.path.isfile(os.path.join(f, "saved_model.pb"))]
  if missing:
    raise UsageError(f"{path!r} is not a policy export: {', '.join(missing)} missing (bin/export "
                     "--run_dir writes greedy/ and sampling/)")
  saved = tensor_spec.from_pbtxt_file(os.path.join(folders[0], policy_saver.POLICY_SPECS_PBTXT))
  observed = saved["collect_data_spec"].observation
  if _spec_facts(observed) != _spec_facts(observation_spec):
    raise UsageError(f"the policy in {path!r} observes {_spec_facts(observed)} but this run's "
                     f"transformer observes {_spec_facts(observation_spec)}: it was trained with "
                     "another node count, op list or action space; use that run's --run_dir")
  return tuple(tf.saved_model.load(folder) for folder in folders)


def _spec_facts(observation_spec):
  """Shapes of each observation tensor and the op-id range, the facts a policy depends on."""
  facts = {key: tuple(spec.shape) for key, spec in observation_spec.items()}
  facts["op ids up to"] = int(observation_spec["op_ids"].maximum)
  return facts
