"""SavedModel export of a built network: reload, same logits, atomic replacement."""

import gc
import os

import numpy as np
import tensorflow as tf

from nat_tf import export
from nat_tf.nn import network
from nat_tf.space import catalogue


def test_exported_network_serves_the_same_logits(tmp_path):
  model = network.build_network(catalogue.get("NAT_DARTS"), dataset="digits", channels=8,
                                layers=3, drop_path=0.2)
  images = tf.random.stateless_uniform([5, 8, 8, 1], seed=[7, 0])
  model(images, training=True)  # moves the batch-norm statistics away from their start
  path = str(tmp_path / "network")
  assert export.export_network(model, path) == path
  serve = export.load_network(path)
  gc.collect()
  assert serve.structured_input_signature[1]["images"].shape.as_list() == [None, 8, 8, 1]
  np.testing.assert_allclose(serve(images=images)["logits"], model(images, training=False),
                             rtol=1e-5, atol=1e-6)

  model.classifier.bias.assign(model.classifier.bias + 1.0)
  export.export_network(model, path)  # replaces the previous export whole
  np.testing.assert_allclose(export.load_network(path)(images=images)["logits"],
                             model(images, training=False), rtol=1e-5, atol=1e-6)
  assert os.listdir(tmp_path) == ["network"]
