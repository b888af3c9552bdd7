"""Exports checked by loading them back in a fresh process before anyone is told they exist.

A SavedModel can save without error and still not load (a TypeSpec nobody
registered, a function that captured a Python object), and only a process that
never held the original objects shows it. So an exporter writes some inputs to a
file, runs this module in a new interpreter

    python -m nat_tf.reload_check {network|policy} EXPORT INPUTS.npz OUTPUTS.npz

and compares what the reloaded export serves with what the objects in memory
give: the same logits for a network, the same greedy actions (and only valid
sampled ones) for a policy. The child imports TensorFlow (and TF-Agents for a
policy), never the Keras or agent code that made the export.
"""

import os
import subprocess
import sys
import tempfile

import numpy as np
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from nat_tf import export

_CHILD_TIMEOUT_S = 600


class ExportCheckError(RuntimeError):
  """An export that does not reload, or serves something else than its source."""


def _serve_network(path, inputs):
  return {"logits": export.load_network(path)(images=inputs["images"])["logits"].numpy()}


def _serve_policy(path, inputs):
  """Actions of both policies of an `export.export_policy` folder."""
  observation = {key: tf.constant(value) for key, value in inputs.items()}
  time_step = ts.restart(observation, len(inputs["op_ids"]))
  # Held while they act: a loaded object's variables go when it is garbage-collected.
  policies = {kind: export.load_saved_policy(os.path.join(path, kind))
              for kind in export.POLICY_KINDS}
  return {kind: policy.action(time_step).action.numpy() for kind, policy in policies.items()}


_SERVERS = {"network": _serve_network, "policy": _serve_policy}


def served_in_fresh_process(kind, path, inputs):
  """What the `kind` export at `path` serves for `inputs` (dict of arrays), computed by a
  new Python process; ExportCheckError (with the child's last error line) if it fails."""
  with tempfile.TemporaryDirectory() as folder:
    inputs_file, outputs_file = (os.path.join(folder, name) for name in ("in.npz", "out.npz"))
    np.savez(inputs_file, **inputs)
    child = subprocess.run(
        [sys.executable, "-m", __name__, kind, path, inputs_file, outputs_file],
        capture_output=True, text=True, timeout=_CHILD_TIMEOUT_S, check=False,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    if child.returncode != 0:
      lines = child.stderr.strip().splitlines() or ["(no output)"]
      raise ExportCheckError(f"the {kind} export {path!r} does not load in a fresh process: "
                             f"{lines[-1]}")
    with np.load(outputs_file) as outputs:
      return dict(outputs)


def export_network_checked(model, path):
  """export.export_network, then the same logits from a fresh process; returns `path`."""
  export.export_network(model, path)
  images = tf.random.stateless_normal((4,) + tuple(model.image_shape), seed=[0, 1])
  expected = model(images, training=False).numpy()
  served = served_in_fresh_process("network", path, {"images": images.numpy()})["logits"]
  if not np.allclose(served, expected, rtol=1e-4, atol=1e-5):
    raise ExportCheckError(f"the network export {path!r} serves other logits than the model "
                           f"(largest difference {np.max(np.abs(served - expected)):.3g})")
  return path


def export_policy_checked(agent, editor, path, architectures):
  """export.export_policy, then, from a fresh process, the greedy actions of the agent on
  `architectures` (a few input cells of its space) and valid sampled ones; returns `path`."""
  export.export_policy(agent, editor, path)
  examples = int(architectures.shape[0])
  observation = editor.observe(architectures)
  inputs = {key: value.numpy() for key, value in observation.items()}
  expected = agent.policy.action(ts.restart(observation, examples)).action.numpy()
  served = served_in_fresh_process("policy", path, inputs)
  if not np.array_equal(served["greedy"], expected):
    raise ExportCheckError(f"the greedy policy export in {path!r} acts unlike the agent's policy "
                           f"on {np.sum(served['greedy'] != expected)} of {expected.size} edges")
  if not np.take_along_axis(inputs["mask"], served["sampling"][..., None], axis=-1).all():
    raise ExportCheckError(f"the sampling policy export in {path!r} samples invalid actions")
  return path


def main(argv):
  kind, path, inputs_file, outputs_file = argv[1:]
  with np.load(inputs_file) as inputs:
    outputs = _SERVERS[kind](path, dict(inputs))
  np.savez(outputs_file, **outputs)


if __name__ == "__main__":
  main(sys.argv)
