"""The DARTS operations as plain functions of (input, weights), for the supernet.

The supernet keeps the weights of one op for all edge positions stacked in one
variable and gathers the row of the edge at hand, so every op is called with its
weights as arguments; Keras layers (which own their weights) cannot be used
there. Padding and pooling follow the same reference rules as `layers.py` (the
pooling and padding helpers are shared), and tests check each function against
the Keras layer of the same op with the same weights.

Batch-norm here is the reference supernet's: no affine parameters, always batch
statistics, no moving averages (the supernet is only ever run in training mode,
NAT_SPEC 6), so ops keep no state besides their weights.
"""

import typing

import tensorflow as tf

from nat_tf.nn import layers
from nat_tf.space import ops

BN_EPSILON = layers.BN_EPSILON


def batch_stat_norm(x, scale=None, offset=None):
  """Normalise each channel with the batch's own mean and variance (fused kernel);
  `scale`/`offset` given make it affine."""
  channels = x.shape[-1]
  scale = tf.ones([channels]) if scale is None else scale
  offset = tf.zeros([channels]) if offset is None else offset
  y, _, _ = tf.compat.v1.nn.fused_batch_norm(x, scale, offset, epsilon=BN_EPSILON,
                                             is_training=True)
  return y


def conv(x, kernel, stride=1, depthwise=False):
  """Bias-free (depthwise) convolution with the reference padding; `kernel` is HWIO."""
  kh, kw = kernel.shape[0], kernel.shape[1]
  padding = ("SAME" if stride == 1 else
             [[0, 0], layers.pads(kh), layers.pads(kw), [0, 0]])
  if depthwise:
    return tf.nn.depthwise_conv2d(x, kernel, [1, stride, stride, 1], padding)
  return tf.nn.conv2d(x, kernel, stride, padding)


def dilated_depthwise(x, kernel, stride):
  """Depthwise conv of dilation 2; at stride 2 an undilated conv of the subsampled padded input."""
  if stride == 1:
    return tf.nn.depthwise_conv2d(x, kernel, [1, 1, 1, 1], "SAME", dilations=[2, 2])
  pads = layers.pads(kernel.shape[0], dilation=2)
  padded = tf.pad(x, [[0, 0], pads, pads, [0, 0]])
  return tf.nn.depthwise_conv2d(padded[:, ::stride, ::stride, :], kernel, [1, 1, 1, 1], "VALID")


def factorized_reduce(x, conv_even, conv_odd):
  """ReLU, two 1x1 stride-2 convs on x and on x shifted by a pixel, concatenated, BN."""
  x = tf.nn.relu(layers.pad_to_even(x))
  halves = [tf.nn.conv2d(x, conv_even, 2, "VALID"), tf.nn.conv2d(x[:, 1:, 1:, :], conv_odd, 2,
                                                                  "VALID")]
  return batch_stat_norm(tf.concat(halves, axis=-1))


class Weight(typing.NamedTuple):
  """A kernel's HWIO shape and its fan-in (PyTorch's: kh*kw*cin, or kh*kw if depthwise)."""
  shape: tuple
  fan_in: int


def _kernel(kh, kw, c_in, c_out):
  return Weight((kh, kw, c_in, c_out), kh * kw * c_in)


def _depthwise(k, channels):
  return Weight((k, k, channels, 1), k * k)


def weights_of(op, channels, stride):
  """The kernels op `op` of `channels` width and this stride takes, in the order
  `apply_op` wants them."""
  family, k = ops.parse(op)
  c = channels
  if family == "sep_conv":
    return [_depthwise(k, c), _kernel(1, 1, c, c)] * 2
  if family == "dil_conv":
    return [_depthwise(k, c), _kernel(1, 1, c, c)]
  if family == "conv":
    return [_kernel(k, k, c, c)]
  if family == ops.FACTORIZED_CONV:
    return [_kernel(1, k, c, c), _kernel(k, 1, c, c)]
  if family == ops.SKIP and stride == 2:
    return factorized_reduce_weights(c, c)
  return []


def factorized_reduce_weights(c_in, c_out):
  return [_kernel(1, 1, c_in, c_out // 2)] * 2


def init_uniform(weight, leading=()):
  """PyTorch's default conv initialisation U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
  bound = weight.fan_in ** -0.5
  return tf.random.uniform(tuple(leading) + weight.shape, -bound, bound)


def apply_op(op, x, weights, stride):
  """Edge op `op` on x with its (gathered) weights, as the reference supernet runs it."""
  family, k = ops.parse(op)
  if family == ops.NULL:
    return tf.zeros_like(x[:, ::stride, ::stride, :])
  if family == ops.SKIP:
    return x if stride == 1 else factorized_reduce(x, *weights)
  if ops.is_pooling(op):
    return batch_stat_norm(layers.pool(x, family.split("_")[0], k, stride))
  x = tf.nn.relu(x)
  if family == "conv":
    return batch_stat_norm(conv(x, weights[0], stride))
  if family == "sep_conv":
    x = batch_stat_norm(conv(conv(x, weights[0], stride, depthwise=True), weights[1]))
    x = tf.nn.relu(x)
    return batch_stat_norm(conv(conv(x, weights[2], 1, depthwise=True), weights[3]))
  if family == "dil_conv":
    return batch_stat_norm(conv(dilated_depthwise(x, weights[0], stride), weights[1]))
  # conv_1xk_kx1: (1, k) with stride (1, s), then (k, 1) with stride (s, 1)
  x = tf.nn.conv2d(x, weights[0], [1, 1, stride, 1], [[0, 0], [0, 0], layers.pads(k), [0, 0]])
  return batch_stat_norm(tf.nn.conv2d(x, weights[1], [1, stride, 1, 1],
                                      [[0, 0], layers.pads(k), [0, 0], [0, 0]]))
