"""The DARTS operations: shapes, stride alignment with the reference, flags, bad input."""

import numpy as np
import pytest
import tensorflow as tf

from nat_tf.errors import UsageError
from nat_tf.nn import layers
from nat_tf.space import ops

CHANNELS = 6
BN_SCALE = 1.0 / np.sqrt(1.0 + layers.BN_EPSILON)  # a fresh BN in inference mode


def _images(size, channels=CHANNELS, seed=0):
  return tf.random.stateless_normal([2, size, size, channels], seed=[seed, 1])


@pytest.mark.parametrize("name", ops.KNOWN_OPS)
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("size", [8, 7])
def test_every_op_keeps_width_and_outputs_reference_size(name, stride, size):
  op = layers.make_op(name, CHANNELS, stride)
  out = op(_images(size), training=True)
  expected = (size - 1) // stride + 1
  assert out.shape == (2, expected, expected, CHANNELS)


# Stride-2 ops whose reference output is the stride-1 output at the even pixels: what
# PyTorch's symmetric padding gives, and TF's asymmetric 'same' would not.
SUBSAMPLING_OPS = ["conv_1x1", "conv_3x3", "conv_5x5", "dil_conv_3x3", "dil_conv_5x5",
                   "conv_1x3_3x1", "conv_1x7_7x1", "max_pool_3x3", "max_pool_5x5",
                   "avg_pool_3x3", "avg_pool_5x5"]


@pytest.mark.parametrize("name", SUBSAMPLING_OPS)
def test_stride_two_windows_are_centred_on_even_pixels(name):
  images = _images(8)
  dense, strided = layers.make_op(name, CHANNELS, 1), layers.make_op(name, CHANNELS, 2)
  dense_out = dense(images, training=False)
  strided(images, training=False)
  strided.set_weights(dense.get_weights())
  np.testing.assert_allclose(strided(images, training=False), dense_out[:, ::2, ::2, :],
                             rtol=1e-5, atol=1e-5)


def test_average_pooling_excludes_padding():
  images = _images(8)
  out = layers.make_op("avg_pool_3x3", CHANNELS, 2)(images)
  np.testing.assert_allclose(out[:, 0, 0, :], tf.reduce_mean(images[:, :2, :2, :], axis=[1, 2]),
                             rtol=1e-6)
  out = layers.make_op("avg_pool_3x3", CHANNELS, 1)(images)
  np.testing.assert_allclose(out[:, 0, 0, :], tf.reduce_mean(images[:, :2, :2, :], axis=[1, 2]),
                             rtol=1e-6)


def test_factorized_reduce_combines_even_and_shifted_pixels():
  images = _images(8)
  reduce = layers.make_op(ops.SKIP, CHANNELS, 2)
  assert isinstance(reduce, layers.FactorizedReduce)
  out = reduce(images, training=False).numpy()
  relu = np.maximum(images.numpy(), 0.0)
  even = relu[:, ::2, ::2, :] @ reduce.conv_even.kernel.numpy()[0, 0]
  odd = relu[:, 1::2, 1::2, :] @ reduce.conv_odd.kernel.numpy()[0, 0]
  np.testing.assert_allclose(out, np.concatenate([even, odd], axis=-1) * BN_SCALE,
                             rtol=1e-5, atol=1e-5)


def test_skip_is_identity_at_stride_one_and_null_is_zero():
  images = _images(8)
  assert isinstance(layers.make_op(ops.SKIP, CHANNELS, 1), tf.keras.layers.Identity)
  np.testing.assert_array_equal(layers.make_op(ops.NULL, CHANNELS, 2)(images),
                                np.zeros([2, 4, 4, CHANNELS]))


def _trainable(layer):
  return sum(v.shape.num_elements() for v in layer.trainable_variables)


def test_supernet_flags_drop_batch_norm_affine_and_add_it_after_pooling():
  images = _images(8)
  affine, plain = layers.make_op("sep_conv_3x3", CHANNELS, 1), layers.make_op(
      "sep_conv_3x3", CHANNELS, 1, affine=False)
  affine(images), plain(images)
  assert _trainable(affine) - _trainable(plain) == 4 * CHANNELS  # gamma and beta of two BNs
  pool = layers.make_op("max_pool_3x3", CHANNELS, 1, affine=False, pool_bn=True)
  pool(images, training=True)
  assert _trainable(pool) == 0
  assert len(pool.non_trainable_variables) == 2  # the BN's moving statistics


def test_drop_path_zeroes_whole_examples_in_training_only():
  images = tf.ones([64, 2, 2, 3])
  drop = layers.DropPath(tf.Variable(0.5, trainable=False))
  np.testing.assert_array_equal(drop(images, training=False), images)
  per_example = np.unique(drop(images, training=True).numpy().reshape(64, -1), axis=1)
  assert per_example.shape == (64, 1)
  assert set(per_example[:, 0]) == {0.0, 2.0}


@pytest.mark.parametrize("name, stride, message", [
    ("sep_conv_7x7", 1, "sep_conv_7x7"), ("conv_3x3", 3, "stride=3")])
def test_bad_op_or_stride_is_a_usage_error_naming_it(name, stride, message):
  with pytest.raises(UsageError, match=message):
    layers.make_op(name, CHANNELS, stride)


def test_odd_width_factorized_reduce_is_a_usage_error():
  with pytest.raises(UsageError, match="7 channels"):
    layers.FactorizedReduce(7)
