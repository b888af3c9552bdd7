"""The tf.distribute strategy a run uses, chosen by gin.

'default' (one device, no wrapping), 'one_device', 'mirrored' (all local GPUs, or the
logical CPU devices when there are none) and 'multi_worker' (MultiWorkerMirroredStrategy,
configured by the TF_CONFIG environment variable of each worker process).
"""

import json
import os

import gin
import tensorflow as tf

from nat_tf.errors import UsageError

STRATEGIES = ("default", "one_device", "mirrored", "multi_worker")


@gin.configurable
def make_strategy(name="default", device=None):
  """A tf.distribute.Strategy; `device` is used by 'one_device' (default: first GPU or CPU)."""
  if name == "default":
    return tf.distribute.get_strategy()
  if name == "one_device":
    gpus = tf.config.list_logical_devices("GPU")
    return tf.distribute.OneDeviceStrategy(device or (gpus[0].name if gpus else "/cpu:0"))
  if name == "mirrored":
    gpus = tf.config.list_logical_devices("GPU")
    devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
    return tf.distribute.MirroredStrategy(devices)
  if name == "multi_worker":
    if "TF_CONFIG" not in os.environ:
      raise UsageError("strategy 'multi_worker' needs the TF_CONFIG environment variable "
                       "(cluster and task of this worker); see README, 'Several machines'")
    _check_tf_config(os.environ["TF_CONFIG"])
    return tf.distribute.MultiWorkerMirroredStrategy()
  raise UsageError(f"make_strategy.name={name!r} is not one of {list(STRATEGIES)}")


def _check_tf_config(text):
  try:
    config = json.loads(text)
    workers = config["cluster"]["worker"]
    index = config["task"]["index"]
  except (ValueError, KeyError, TypeError) as error:
    raise UsageError(f"TF_CONFIG is not a valid cluster description ({error}); expected "
                     '{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", '
                     '"index": i}}') from None
  if not 0 <= index < len(workers):
    raise UsageError(f"TF_CONFIG task index {index} is outside the {len(workers)} workers")


def is_chief(strategy):
  """Whether this process writes outputs (only one worker of a multi-worker run does)."""
  resolver = getattr(strategy, "cluster_resolver", None)
  if resolver is None or not resolver.cluster_spec().as_dict():
    return True
  return resolver.task_type in ("chief", None) or (
      resolver.task_type == "worker" and resolver.task_id == 0)
