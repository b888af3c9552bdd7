"""The DARTS operations as plain functions of (input, weights), for the supernet.

The supernet keeps the weights of one op for all edge positions stacked in one
variable and gathers the row of the edge at hand, so every op is called with its
weights as arguments; Keras layers (which own their weights) cannot be used
there. Padding and pooling follow the same reference rules as `layers.py` (the
pooling and padding helpers are shared), and tests check each function against
the Keras layer of the same op with the same weights.

Some ops are written for the speed of their gradients on CPU, because every edge op
runs inside a shared function whose gradient is another function: StridedSlice's
gradient is a slow generic kernel, so shifts use Slice (whose gradient is a pad) and
subsampling space_to_depth (whose gradient is a copy); strided convs pad with a pad
op, as oneDNN refuses explicit conv padding and the fallback kernels are slower; and
oneDNN's max-pool gradient needs its forward pass in the same function, so max
pooling recomputes its forward pass in its gradient rather than fall back to Eigen's
kernel. BUILD_NOTES.md (Performance, issue 8) has what each of these cost.

Batch-norm here is the reference supernet's: no affine parameters, always batch
statistics, no moving averages (the supernet is only ever run in training mode,
the reference code), so ops keep no state besides their weights.
"""

import typing

import tensorflow as tf
from tensorflow.python.ops import gen_nn_ops

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


def relu(x):
  """ReLU; of a width that is not a multiple of 8, as LeakyRelu of slope 0 (the same
  function), which grappler does not fuse with a batch-norm before it.

  With oneDNN, grappler fuses batch-norm then ReLU into one op, and oneDNN computes that
  fused op in training mode with fast kernels only when the channels are a multiple of
  8; at the search supernet's 20 and 60 channels it took 10 and 30 ms at batch 64,
  against 3 ms for the batch-norm alone (BUILD_NOTES, Performance).
  """
  if x.shape[-1] is not None and x.shape[-1] % 8:
    return tf.nn.leaky_relu(x, alpha=0.0)
  return tf.nn.relu(x)


def conv(x, kernel, stride=1, depthwise=False):
  """Bias-free (depthwise) convolution with the reference padding; `kernel` is HWIO."""
  kh, kw = kernel.shape[0], kernel.shape[1]
  padding = "SAME"
  if stride != 1:  # a pad op, not explicit conv padding: oneDNN's kernels refuse the latter
    x = tf.pad(x, [[0, 0], layers.pads(kh), layers.pads(kw), [0, 0]])
    padding = "VALID"
  if depthwise:
    return tf.nn.depthwise_conv2d(x, kernel, [1, stride, stride, 1], padding)
  if kh == kw == stride == 1:
    return pointwise(x, kernel)
  return tf.nn.conv2d(x, kernel, stride, padding)


def pointwise(x, kernel):
  """A 1x1 stride-1 convolution as the matrix product of the [pixels, channels] view:
  with oneDNN, forward and both gradients together are 7-20% faster than its 1x1
  convolution at the search supernet's shapes (BUILD_NOTES, Performance side by side)."""
  c_in, c_out = kernel.shape[2], kernel.shape[3]
  y = tf.matmul(tf.reshape(x, [-1, c_in]), tf.reshape(kernel, [c_in, c_out]))
  return tf.reshape(y, tf.concat([tf.shape(x)[:-1], [c_out]], axis=0))


def dilated_depthwise(x, kernel, stride):
  """Depthwise conv of dilation 2; at stride 2 an undilated conv of the subsampled padded input."""
  if stride == 1:
    return tf.nn.depthwise_conv2d(x, kernel, [1, 1, 1, 1], "SAME", dilations=[2, 2])
  before, after = layers.pads(kernel.shape[0], dilation=2)
  odd_height, odd_width = ((size + before + after) % 2 for size in x.shape[1:3])
  padded = tf.pad(x, [[0, 0], [before, after + odd_height], [before, after + odd_width], [0, 0]])
  return tf.nn.depthwise_conv2d(even_pixels(padded), kernel, [1, 1, 1, 1], "VALID")


def even_pixels(x):
  """x[:, ::2, ::2] of an even-sized map: the first channels of space_to_depth, whose
  gradient is a plain copy (module doc)."""
  return tf.slice(tf.nn.space_to_depth(x, 2), [0, 0, 0, 0], [-1, -1, -1, x.shape[-1]])


def factorized_reduce(x, conv_even, conv_odd):
  """ReLU, two 1x1 stride-2 convs on x and on x shifted by a pixel, concatenated, BN."""
  x = relu(layers.pad_to_even(x))
  shifted = tf.slice(x, [0, 1, 1, 0], [-1, -1, -1, -1])  # not x[:, 1:, 1:]: module doc
  halves = [tf.nn.conv2d(x, conv_even, 2, "VALID"), tf.nn.conv2d(shifted, conv_odd, 2, "VALID")]
  return batch_stat_norm(tf.concat(halves, axis=-1))


@tf.RegisterGradient("NatRecomputedMaxPool")
def _recomputed_max_pool_grad(op, upstream):
  """MaxPool's gradient from a forward pass recomputed beside it (module doc)."""
  x = op.inputs[0]
  attrs = {name: op.get_attr(name) for name in ("ksize", "strides", "padding", "data_format")}
  again = gen_nn_ops.max_pool(x, **attrs)
  return gen_nn_ops.max_pool_grad(x, again, upstream, **attrs)


def pool(x, kind, kernel, stride):
  """'max' or 'avg' pooling with the reference padding (layers.pool), fast gradients."""
  if kind != "max":
    return layers.pool(x, kind, kernel, stride)
  with tf.compat.v1.get_default_graph().gradient_override_map({"MaxPool": "NatRecomputedMaxPool"}):
    return layers.pool(x, kind, kernel, stride)


class Weight(typing.NamedTuple):
  """A kernel's HWIO shape and its fan-in (PyTorch's: kh*kw*cin, or kh*kw if depthwise)."""
  shape: tuple
  fan_in: int


def _kernel(kh, kw, c_in, c_out):
  return Weight((kh, kw, c_in, c_out), kh * kw * c_in)


def _depthwise(k, channels):
  return Weight((k, k, channels, 1), k * k)


def _no_weights(spec, channels, stride):
  return []


def _skip_weights(spec, channels, stride):
  return factorized_reduce_weights(channels, channels) if stride == 2 else []


def _conv_weights(spec, channels, stride):
  return [_kernel(spec.kernel, spec.kernel, channels, channels)]


def _dil_conv_weights(spec, channels, stride):
  return [_depthwise(spec.kernel, channels), _kernel(1, 1, channels, channels)]


def _sep_conv_weights(spec, channels, stride):
  return _dil_conv_weights(spec, channels, stride) * 2  # depthwise, pointwise, twice


def _factorized_conv_weights(spec, channels, stride):
  k, c = spec.kernel, channels
  return [_kernel(1, k, c, c), _kernel(k, 1, c, c)]


_FAMILY_WEIGHTS = {
    ops.OpFamily.NULL: _no_weights, ops.OpFamily.SKIP: _skip_weights,
    ops.OpFamily.POOL: _no_weights, ops.OpFamily.CONV: _conv_weights,
    ops.OpFamily.SEP_CONV: _sep_conv_weights, ops.OpFamily.DIL_CONV: _dil_conv_weights,
    ops.OpFamily.FACTORIZED_CONV: _factorized_conv_weights}


def weights_of(op, channels, stride):
  """The kernels op `op` of `channels` width and this stride takes, in the order
  `apply_op` wants them."""
  spec = ops.op_spec(op)
  return _FAMILY_WEIGHTS[spec.family](spec, channels, stride)


def factorized_reduce_weights(c_in, c_out):
  return [_kernel(1, 1, c_in, c_out // 2)] * 2


def init_uniform(weight, leading=()):
  """PyTorch's default conv initialisation U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
  bound = weight.fan_in ** -0.5
  return tf.random.uniform(tuple(leading) + weight.shape, -bound, bound)


def _null(spec, x, weights, stride):
  return tf.zeros_like(x[:, ::stride, ::stride, :])


def _skip(spec, x, weights, stride):
  return x if stride == 1 else factorized_reduce(x, *weights)


def _pool(spec, x, weights, stride):
  return batch_stat_norm(pool(x, spec.pool, spec.kernel, stride))


def _conv(spec, x, weights, stride):
  return batch_stat_norm(conv(relu(x), weights[0], stride))


def _separable(x, depthwise, pointwise, stride):
  """ReLU -> depthwise conv -> pointwise conv -> BN."""
  return batch_stat_norm(conv(conv(relu(x), depthwise, stride, depthwise=True), pointwise))


def _sep_conv(spec, x, weights, stride):
  return _separable(_separable(x, weights[0], weights[1], stride), weights[2], weights[3], 1)


def _dil_conv(spec, x, weights, stride):
  return batch_stat_norm(conv(dilated_depthwise(relu(x), weights[0], stride), weights[1]))


def _factorized_conv(spec, x, weights, stride):
  """(1, k) with stride (1, s), then (k, 1) with stride (s, 1)."""
  padding = layers.pads(spec.kernel)
  x = tf.nn.conv2d(relu(x), weights[0], [1, 1, stride, 1],
                   [[0, 0], [0, 0], padding, [0, 0]])
  return batch_stat_norm(tf.nn.conv2d(x, weights[1], [1, stride, 1, 1],
                                      [[0, 0], padding, [0, 0], [0, 0]]))


_FAMILY_FUNCTIONS = {
    ops.OpFamily.NULL: _null, ops.OpFamily.SKIP: _skip, ops.OpFamily.POOL: _pool,
    ops.OpFamily.CONV: _conv, ops.OpFamily.SEP_CONV: _sep_conv,
    ops.OpFamily.DIL_CONV: _dil_conv, ops.OpFamily.FACTORIZED_CONV: _factorized_conv}


def apply_op(op, x, weights, stride):
  """Edge op `op` on x with its (gathered) weights, as the reference supernet runs it."""
  spec = ops.op_spec(op)
  return _FAMILY_FUNCTIONS[spec.family](spec, x, weights, stride)
