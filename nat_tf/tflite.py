"""TFLite models of trained networks, and their latency on this CPU.

Practitioners deploy the networks NAT makes cheaper, and the tools they use measure
latency with the TFLite interpreter and ship TFLite files. A network's SavedModel
(export.py) converts into two models: float32, and dynamic-range int8 (weights stored
as int8 and dequantised as they are read, activations float; the converter's default
optimisation without a representative dataset, so no calibration data is needed).

Latency is the interpreter's time per image at batch 1 with a fixed number of threads:
WARMUP invocations first (the interpreter allocates and the caches fill), then
REPETITIONS timed one by one; the median and the 10th and 90th percentiles are
reported, since a shared machine's single timings are noisy.
"""

import time

import numpy as np
import tensorflow as tf

from nat_tf import export

VARIANTS = {"float32": "network.tflite", "dynamic_int8": "network_dynamic_int8.tflite"}
WARMUP = 20
REPETITIONS = 200


def convert(saved_model_dir, variant):
  """The TFLite flatbuffer (bytes) of the network SavedModel in `saved_model_dir`."""
  converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir, [export.SIGNATURE])
  if variant == "dynamic_int8":
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
  elif variant != "float32":
    raise ValueError(f"unknown TFLite variant {variant!r}; one of {list(VARIANTS)}")
  return converter.convert()


def _interpreter(path, batch, threads):
  interpreter = tf.lite.Interpreter(model_path=path, num_threads=threads)
  image = interpreter.get_input_details()[0]
  interpreter.resize_tensor_input(image["index"], [batch, *image["shape"][1:]])
  interpreter.allocate_tensors()
  return interpreter


def logits(path, images, threads=1):
  """The logits [N, classes] the TFLite model at `path` gives for float32 `images`."""
  interpreter = _interpreter(path, len(images), threads)
  interpreter.set_tensor(interpreter.get_input_details()[0]["index"], images.astype(np.float32))
  interpreter.invoke()
  return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def latency_ms(path, threads=1, warmup=WARMUP, repetitions=REPETITIONS):
  """[median, 10th, 90th percentile] of the milliseconds one image takes (batch 1)."""
  interpreter = _interpreter(path, 1, threads)
  image = interpreter.get_input_details()[0]
  interpreter.set_tensor(image["index"], np.zeros(image["shape"], np.float32))
  for _ in range(warmup):
    interpreter.invoke()
  times = []
  for _ in range(repetitions):
    start = time.perf_counter()
    interpreter.invoke()
    times.append(1000 * (time.perf_counter() - start))
  return [float(np.median(times)), float(np.percentile(times, 10)),
          float(np.percentile(times, 90))]
