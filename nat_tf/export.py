"""SavedModel export of trained networks, for serving and sharing.

The export holds the network's variables and one traced inference function, not
the Keras objects, so it saves quickly, reloads without nat_tf and serves the
same logits. Its `serving_default` signature takes float32 `images`
[batch, H, W, C] and returns {"logits": [batch, classes]}. Exports are written
through `atomic.directory`: a reader sees the old export or the new one.
"""

import tensorflow as tf

from nat_tf import atomic

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
