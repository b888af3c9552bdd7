"""SavedModel export of trained networks, for serving and sharing.

The export holds the network's variables and one traced inference function, not
the Keras objects, so it saves quickly, reloads without nat_tf and serves the
same logits. Its `serving_default` signature takes float32 `images`
[batch, H, W, C] and returns {"logits": [batch, classes]}. Exports are written
through `atomic.directory`: a reader sees the old export or the new one.
"""

import json
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


SPACE_FILE = "space.json"


def policy_space(editor):
  """The facts a policy depends on: its action space, op list and node count."""
  space = editor.action_space
  return {"action_space": space.kind, "op_list": space.op_list.name,
          "num_nodes": editor.num_nodes}


def export_policy(agent, editor, path):
  """Write the agent's greedy and sampling policies as TF-Agents SavedModels.

  `path/greedy` and `path/sampling` each load as `load_saved_policy` loads them and take
  a batched TimeStep whose observation is
  the dict of `nat_tf.rl.observation.ObservationBuilder.spec`; `path/space.json`
  names the action space, op list and node count they act on (op ids index that list).
  """
  from tf_agents.policies import policy_saver  # pylint: disable=import-outside-toplevel
  with atomic.directory(path) as folder:
    for kind, policy in zip(POLICY_KINDS, (agent.policy, agent.collect_policy)):
      policy_saver.PolicySaver(policy, batch_size=None).save(f"{folder}/{kind}")
    atomic.write_json(os.path.join(folder, SPACE_FILE), policy_space(editor))
  return path


def load_policies(path, editor):
  """(greedy, sampling) policies of an `export_policy` folder; a UsageError unless they act
  on `editor`'s action space, op list and node count."""
  folders = [os.path.join(path, kind) for kind in POLICY_KINDS]
  needed = [os.path.join(f, "saved_model.pb") for f in folders] + [os.path.join(path, SPACE_FILE)]
  missing = [f for f in needed if not os.path.isfile(f)]
  if missing:
    raise UsageError(f"{path!r} is not a policy export: {', '.join(missing)} missing (bin/export "
                     "--run_dir writes greedy/, sampling/ and space.json)")
  with open(os.path.join(path, SPACE_FILE), encoding="utf-8") as handle:
    saved = json.load(handle)
  expected = policy_space(editor)
  if saved != expected:
    raise UsageError(f"the policy in {path!r} acts on {saved} but this run on "
                     f"{expected}: it was trained with another node count, op list or action "
                     "space; use that run's --run_dir")
  return tuple(load_saved_policy(folder) for folder in folders)


def load_saved_policy(folder):
  """`tf.saved_model.load` of one policy SavedModel, as the README shows it: TF-Agents
  policies name the TypeSpecs of tfp's distributions in their signatures, and
  `import tensorflow_probability` registers them only on first use of
  `tfp.distributions` (or at import when TensorFlow was imported first)."""
  import tensorflow_probability as tfp  # pylint: disable=import-outside-toplevel
  tfp.distributions.Distribution  # pylint: disable=pointless-statement
  return tf.saved_model.load(folder)
