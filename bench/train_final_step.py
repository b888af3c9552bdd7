"""bin/train_final's training step at a protocol's configuration, timed on random images.

    python bench/train_final_step.py [--gin_file=gin/train_final_cifar10.gin] \
        [--genotype=DARTS_V2|FILE] [--steps=20] [--gin_bindings=...]

Training from scratch is where a derived network's cost is paid (600 epochs of CIFAR-10
in the reference protocol), and its step is not the search's: Keras layers with affine
batch-norm, drop path, the auxiliary head, gradient clipping. This builds the network and
the Trainer exactly as train_final does from the protocol file (no data set is needed:
the images are random, the speed does not depend on pixel values) and prints one JSON
line: the median step time, images per second, and the peak resident memory.
"""

import argparse
import inspect
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nat_tf  # pylint: disable=unused-import,wrong-import-position  # before TensorFlow

import gin  # pylint: disable=wrong-import-position
import numpy as np  # pylint: disable=wrong-import-position
import tensorflow as tf  # pylint: disable=wrong-import-position

import machine  # pylint: disable=wrong-import-position
import measure  # pylint: disable=wrong-import-position
from nat_tf.data import datasets  # pylint: disable=wrong-import-position
from nat_tf.errors import UsageError  # pylint: disable=wrong-import-position
from nat_tf.evaluate import train_final  # pylint: disable=wrong-import-position
from nat_tf.nn import network as network_lib  # pylint: disable=wrong-import-position
from nat_tf.space import catalogue  # pylint: disable=wrong-import-position
from nat_tf.training import freed_memory  # pylint: disable=wrong-import-position

HERE = os.path.dirname(os.path.abspath(__file__))
WARMUP = 2
# The Trainer's parameters that train_final passes on under the same names.
TRAINER_PARAMETERS = ("learning_rate", "momentum", "weight_decay", "gradient_clip",
                      "auxiliary_weight", "label_smoothing")


def protocol():
  """train_final's bound values of the Trainer's parameters (its defaults where unbound)."""
  values = {}
  for name, parameter in inspect.signature(train_final.train_final).parameters.items():
    try:
      values[name] = gin.query_parameter(f"train_final.{name}")
    except ValueError:  # not bound
      values[name] = parameter.default
  return values


def time_steps(genotype, steps):
  """The median time of `steps` training steps after warm-up, images/s, the first step's
  time (tracing included), and the batch size and dataset the protocol gave."""
  values = protocol()
  info = datasets.info(values["dataset"])
  batch_size = values["batch_size"]
  strategy = tf.distribute.get_strategy()
  model = network_lib.build_network(genotype, dataset=values["dataset"])
  trainer = train_final.Trainer(model, strategy, global_batch_size=batch_size,
                                **{name: values[name] for name in TRAINER_PARAMETERS})
  shape = (2, batch_size, info.image_size, info.image_size, info.channels)
  images = tf.random.stateless_normal(shape, [0, 0])
  labels = tf.random.stateless_uniform(shape[:2], [0, 1], 0, info.num_classes, tf.int32)
  data = tf.data.Dataset.from_tensor_slices((images, labels)).repeat().prefetch(2)
  iterator = iter(strategy.experimental_distribute_dataset(data))
  step = lambda: trainer.step(iterator)["loss"]
  first = measure.timed(step, 1)[0]
  freed_memory.release()
  measure.timed(step, WARMUP - 1)
  median = float(np.median(measure.timed(step, steps)))
  return {"train_step_s": median, "images_per_s": batch_size / median,
          "first_train_step_s": float(first), "batch_size": batch_size,
          "dataset": info.name}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--gin_file", action="append", default=[])
  parser.add_argument("--gin_bindings", action="append", default=[])
  parser.add_argument("--genotype", default="DARTS_V2", help="a catalogue name or a file")
  parser.add_argument("--steps", type=int, default=20)
  args = parser.parse_args()
  gin_files = args.gin_file or [os.path.join(HERE, "..", "gin", "train_final_cifar10.gin")]
  try:
    gin.parse_config_files_and_bindings(gin_files, args.gin_bindings)
    results = time_steps(catalogue.load(args.genotype), args.steps)
  except UsageError as error:
    raise SystemExit(f"error: {error}") from None
  results["peak_rss_gb"] = measure.peak_rss_gb()
  results["machine"] = machine.cpu_description()
  print(json.dumps(results))


if __name__ == "__main__":
  main()
