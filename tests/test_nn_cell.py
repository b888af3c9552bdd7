"""Fixed cells: shapes of normal and reduction cells, preprocessing, null-only nodes."""

import numpy as np
import tensorflow as tf

from nat_tf.nn import cell as cell_lib
from nat_tf.space import catalogue
from nat_tf.space import genotype as genotype_lib
from nat_tf.space import macro

C = 4
RATE = tf.Variable(0.0, trainable=False)


def _slot(reduction, reduction_prev, preprocess=(), c_prev_prev=12, c_prev=16, multiplier=4):
  return macro.CellSlot(0, c_prev_prev, c_prev, C, reduction, reduction_prev, 8, multiplier,
                        preprocess)


def _inputs(s0_size, c_prev_prev=12, c_prev=16, seed=0):
  return (tf.random.stateless_normal([2, s0_size, s0_size, c_prev_prev], seed=[seed, 0]),
          tf.random.stateless_normal([2, 8, 8, c_prev], seed=[seed, 1]))


def test_normal_cell_keeps_size_and_concatenates_its_nodes():
  cell = cell_lib.Cell(catalogue.get("DARTS_V2").normal, _slot(False, False), RATE)
  assert cell(_inputs(8)).shape == (2, 8, 8, 4 * C)


def test_reduction_cell_halves_size_after_a_factorized_reduce_of_s0():
  genotype = catalogue.get("DARTS_V2")
  cell = cell_lib.Cell(genotype.reduce, _slot(True, True), RATE)
  assert cell(_inputs(16)).shape == (2, 4, 4, 4 * C)  # s0 comes from before the last reduction


def test_loose_end_cell_outputs_its_concat_nodes_only():
  genotype = catalogue.get("ENAS")
  cell = cell_lib.Cell(genotype.reduce, _slot(True, False, multiplier=3), RATE)
  assert cell(_inputs(8)).shape == (2, 4, 4, 3 * C)  # reduce_concat [2, 3, 6]


def test_unused_input_is_ignored_and_a_node_of_null_edges_is_zero():
  cell = genotype_lib.make_cell(
      [("null", 0, 2), ("skip_connect", 1, 2), ("null", 0, 3), ("null", 1, 3)], [2, 3])
  slot = _slot(True, False, (macro.UNUSED, macro.CONV), multiplier=2)
  layer = cell_lib.Cell(cell, slot, RATE)
  out = layer(_inputs(8, seed=0), training=False)
  other_s0 = layer((_inputs(8, seed=1)[0], _inputs(8, seed=0)[1]), training=False)
  np.testing.assert_array_equal(out, other_s0)
  assert out.shape == (2, 4, 4, 2 * C)
  np.testing.assert_array_equal(out[..., C:], np.zeros([2, 4, 4, C]))


def test_identity_preprocessing_passes_the_input_through():
  resblock = catalogue.get("ResBlock").normal
  slot = _slot(False, False, (macro.UNUSED, macro.IDENTITY), c_prev=C, multiplier=1)
  layer = cell_lib.Cell(resblock, slot, RATE)
  layer(_inputs(8, c_prev=C), training=False)
  for variable in layer.trainable_variables:
    variable.assign(tf.zeros_like(variable))  # both convs output 0: node 5 = s1 + 0
  s1 = _inputs(8, c_prev=C)[1]
  np.testing.assert_allclose(layer((s1, s1), training=False), s1, atol=1e-6)
