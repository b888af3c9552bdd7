"""NAS-Bench-201's Keras network: its counted parameters and multiply-adds equal the cost
model exactly, its cells are wired as the benchmark's, and it maps images to logits."""

import numpy as np
import pytest
import tensorflow as tf

from nat_tf.errors import UsageError
from nat_tf.nn import counting
from nat_tf.nn import nasbench201_network
from nat_tf.space import catalogue
from nat_tf.space import nasbench201

TINY = {"num_classes": 4, "channels": 3, "cells_per_stage": 1, "image_size": 8,
        "in_channels": 1}
NAMED = ["all_conv_3x3", "resnet", "all_null", "all_skip_connect", "all_avg_pool_3x3"]
RANDOM_ROWS = [int(row) for row in np.random.default_rng(0).integers(0, 15625, size=3)]


def _cell(name_or_row):
  if isinstance(name_or_row, int):
    return nasbench201.from_op_ids(nasbench201.from_index(name_or_row))
  return nasbench201.lookup(name_or_row)


@pytest.mark.parametrize("sizing", [{}, TINY], ids=["benchmark", "tiny"])
@pytest.mark.parametrize("name_or_row", NAMED + RANDOM_ROWS)
def test_model_counts_equal_the_cost_model(name_or_row, sizing):
  cell = _cell(name_or_row)
  model = nasbench201_network.build(cell, **sizing)
  assert counting.count(model) == nasbench201.network_cost(cell, **sizing)


def test_a_forward_pass_gives_logits_of_each_image():
  model = nasbench201_network.build(nasbench201.lookup("resnet"), **TINY)
  images = tf.random.stateless_uniform((2, 8, 8, 1), seed=(1, 2))
  for training in (False, True):
    logits = model(images, training=training)
    assert logits.shape == (2, 4)
    assert np.all(np.isfinite(logits.numpy()))


def _cell_layer(name_or_row, channels=3):
  layer = nasbench201_network.NasBench201Cell(_cell(name_or_row), channels)
  x = tf.random.stateless_normal((2, 5, 5, channels), seed=(3, 4))
  return layer, x, layer(x, training=False)


def test_a_cell_sums_every_earlier_node_into_each_node():
  """Each node written out by hand from the benchmark's edge order (0,1), (0,2), (1,2),
  (0,3), (1,3), (2,3), on a cell with a different op on each edge."""
  mixed = nasbench201.to_string(nasbench201.from_op_ids([3, 2, 0, 3, 1, 2]))
  layer, x, out = _cell_layer(mixed)
  e = [lambda t, op=op: op(t, training=False) for op in layer.edge_ops]
  node1 = e[0](x)
  node2 = e[1](x) + e[2](node1)
  node3 = e[3](x) + e[4](node1) + e[5](node2)
  np.testing.assert_allclose(out.numpy(), node3.numpy(), rtol=1e-5, atol=1e-5)


def test_skip_and_null_cells_compute_what_the_benchmarks_do():
  _, x, out = _cell_layer("all_skip_connect")
  np.testing.assert_allclose(out.numpy(), 4 * x.numpy(), rtol=1e-6)  # x, 2x, 4x
  _, _, out = _cell_layer("all_null")
  assert not np.any(out.numpy())


def test_a_cell_of_another_space_is_refused():
  with pytest.raises(UsageError, match="not a NAS-Bench-201 cell"):
    nasbench201_network.build(catalogue.get("DARTS_V2").normal, **TINY)
  with pytest.raises(UsageError, match="image_size=6 must be a multiple of 4"):
    nasbench201_network.build(nasbench201.lookup("resnet"), **{**TINY, "image_size": 6})
