"""Exports checked by loading them back in a fresh process before anyone is told they exist.

A SavedModel can save without error and still not load (a TypeSpec nobody
registered, a function that captured a Python object), and only a process that
never held the original objects shows it. So an exporter writes some inputs to a
file, runs this module in a new interpreter

    python -m nat_tf.reload_check {network|policy|tflite} EXPORT INPUTS.npz OUTPUTS.npz

and compares what the reloaded export serves with what the objects in memory
give: the same logits for a network, the same greedy actions (and only valid
sampled ones) for a policy, the same top-1 on real test images for a TFLite model
(whose latency the child measures too, in a process that holds nothing else). The child imports TensorFlow (and TF-Agents for a
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
from nat_tf import tflite

_CHILD_TIMEOUT_S = 600
# How far a TFLite model's top-1 may be from the network's on the same test images: half
# a point (int8 weights move a few borderline images; float32 should move none).
TFLITE_TOP1_TOLERANCE = 0.005


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


def _serve_tflite(path, inputs):
  return {"logits": tflite.logits(path, inputs["images"]),
          "latency_ms": np.array(tflite.latency_ms(path))}


_SERVERS = {"network": _serve_network, "policy": _serve_policy, "tflite": _serve_tflite}


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


def tflite_checked(saved_model_dir, folder, images, labels, keras_top1):
  """Both TFLite models (tflite.VARIANTS) of the network SavedModel in `saved_model_dir`
  written into `folder`, each served from a fresh process on the test `images`; its
  top-1 must be within TFLITE_TOP1_TOLERANCE of the Keras model's `keras_top1`. Returns
  {variant: {file, bytes, top1, latency_ms: [median, p10, p90]}}."""
  served = {}
  for variant, name in tflite.VARIANTS.items():
    path = os.path.join(folder, name)
    model = tflite.convert(saved_model_dir, variant)
    with open(path, "wb") as handle:
      handle.write(model)
    outputs = served_in_fresh_process("tflite", path, {"images": images})
    top1 = float(np.mean(np.argmax(outputs["logits"], axis=-1) == labels))
    if abs(top1 - keras_top1) > TFLITE_TOP1_TOLERANCE:
      raise ExportCheckError(f"the {variant} TFLite model scores top-1 {top1:.4f} on "
                             f"{len(labels)} test images where the network scores "
                             f"{keras_top1:.4f}")
    served[variant] = {"file": name, "bytes": len(model), "top1": top1,
                       "latency_ms": outputs["latency_ms"].tolist()}
  return served


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
