"""The DARTS operations as Keras layers, channels-last (the reference code).

Padding follows the PyTorch reference rather than TensorFlow's 'same': a window of
extent e (kernel k dilated by d: e = d(k-1)+1) is padded (e-1)//2 before and e//2
after, so an op outputs (size-1)//stride+1 pixels and a stride-2 window is centred
on the even input pixels, as in the reference (TF's 'same' centres it on odd ones).
At stride 1 that padding is exactly TF's 'same', used there to spare a pad op.

`make_op` is the one factory of edge ops as layers, a layer builder per op family
(`ops.OpFamily`) given the op's parameters from `ops.OP_SPECS`; the fixed networks
(cell.py) call it with affine batch-norm. The supernet runs the same ops as functions of
gathered weights (functional.py); affine=False and pool_bn=True (a non-affine BN after
pooling) build the reference supernet's version of an op as a layer, which tests hold
functional.py's to.
"""

import tensorflow as tf

from nat_tf.errors import UsageError
from nat_tf.space import macro
from nat_tf.space import ops

BN_MOMENTUM = 0.9  # PyTorch's default momentum 0.1, in Keras's convention
BN_EPSILON = 1e-5  # PyTorch's default


class Chain(tf.keras.layers.Layer):
  """Layers applied in order: a Sequential that is a plain layer, cheap to nest and call."""

  def __init__(self, steps, **kwargs):
    super().__init__(**kwargs)
    self.steps = list(steps)

  def call(self, inputs, training=None):
    for step in self.steps:
      inputs = step(inputs, training=training)
    return inputs


class Subsample(tf.keras.layers.Layer):
  """Every `stride`-th pixel, starting with the first, in both directions."""

  def __init__(self, stride, **kwargs):
    super().__init__(**kwargs)
    self.stride = stride

  def call(self, inputs):
    return inputs[:, ::self.stride, ::self.stride, :]


class Zero(Subsample):
  """The null op: zeros of the op's output shape (subsampled at stride 2, as the reference)."""

  def call(self, inputs):
    return tf.zeros_like(super().call(inputs))


class Pool(tf.keras.layers.Layer):
  """Max or average pooling with the reference's padding; averages exclude padding
  (PyTorch's count_include_pad=False)."""

  def __init__(self, kind, kernel, stride, **kwargs):
    super().__init__(**kwargs)
    self.kind, self.kernel, self.stride = kind, kernel, stride

  def call(self, inputs):
    return pool(inputs, self.kind, self.kernel, self.stride)


def pool(x, kind, kernel, stride):
  """'max' or 'avg' pooling with the reference padding; averages exclude padding."""
  pool_fn = tf.nn.max_pool2d if kind == "max" else tf.nn.avg_pool2d
  if stride == 1:
    return pool_fn(x, kernel, 1, "SAME")  # TF's 'SAME' averages exclude padding too
  # Padded explicitly (a pad op works on every device): -inf for max, as PyTorch pads.
  padding = [[0, 0], pads(kernel), pads(kernel), [0, 0]]
  fill = -float("inf") if kind == "max" else 0.0
  pooled = pool_fn(tf.pad(x, padding, constant_values=fill), kernel, stride, "VALID")
  if kind == "max":
    return pooled
  inside = tf.pad(tf.ones_like(x[:1, :, :, :1]), padding)  # 1 on real pixels
  return pooled / pool_fn(inside, kernel, stride, "VALID")


class FactorizedReduce(tf.keras.layers.Layer):
  """ReLU, two 1x1 stride-2 convs (on x and on x shifted by one pixel) concatenated, BN.

  Halves the resolution without losing the odd pixels. On an odd size it first
  pads a zero row/column in front, as NATv2 does, so both halves have
  (size-1)//2+1 pixels.
  """

  def __init__(self, channels, affine=True, **kwargs):
    super().__init__(**kwargs)
    if channels % 2:
      raise UsageError(f"factorized reduce to {channels} channels: the width must be even "
                       "(it concatenates two halves)")
    self.relu = tf.keras.layers.ReLU()
    self.conv_even = tf.keras.layers.Conv2D(channels // 2, 1, 2, use_bias=False)
    self.conv_odd = tf.keras.layers.Conv2D(channels // 2, 1, 2, use_bias=False)
    self.bn = batch_norm(affine)

  def call(self, inputs, training=None):
    x = pad_to_even(self.relu(inputs))
    halves = [self.conv_even(x), self.conv_odd(x[:, 1:, 1:, :])]
    return self.bn(tf.concat(halves, axis=-1), training=training)


def pad_to_even(x):
  """A zero row/column in front of an odd-sized map, as NATv2's factorized reduce pads."""
  odd_height, odd_width = (size % 2 for size in x.shape[1:3])
  if odd_height or odd_width:
    x = tf.pad(x, [[0, 0], [odd_height, 0], [odd_width, 0], [0, 0]])
  return x


class DropPath(tf.keras.layers.Layer):
  """In training, zero a whole example's output with probability `rate`, scaling the
  kept ones by 1/(1-rate) (DARTS drop path). `rate` is a variable shared by the
  network, so a training loop can schedule it without retracing."""

  def __init__(self, rate, **kwargs):
    super().__init__(**kwargs)
    self.rate = rate

  def call(self, inputs, training=None):
    if not training:
      return inputs
    keep = 1.0 - self.rate
    noise = tf.random.uniform([tf.shape(inputs)[0], 1, 1, 1], dtype=inputs.dtype)
    return inputs / keep * tf.floor(keep + noise)


def batch_norm(affine=True):
  return tf.keras.layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON,
                                            center=affine, scale=affine)


def conv(filters, kernel, stride=1, depthwise=False):
  """A bias-free convolution (or depthwise one) with the reference padding, as layers.

  `kernel` and `stride` are ints or (height, width) pairs.
  """
  kernel, stride = _pair(kernel), _pair(stride)
  padding = "same" if stride == (1, 1) else "valid"
  if depthwise:
    layer = tf.keras.layers.DepthwiseConv2D(kernel, stride, padding, use_bias=False)
  else:
    layer = tf.keras.layers.Conv2D(filters, kernel, stride, padding, use_bias=False)
  spatial_pads = tuple(pads(k) for k in kernel)
  if padding == "same" or not any(map(any, spatial_pads)):
    return [layer]
  return [tf.keras.layers.ZeroPadding2D(spatial_pads), layer]


def dilated_depthwise(kernel, stride):
  """Depthwise conv of dilation 2 with the reference padding, as layers.

  Keras refuses dilation and stride together. At stride 2 the dilated windows
  touch only the even pixels of the padded input, so the op is an undilated conv
  over that input subsampled by 2: same weights, same output.
  """
  if stride == 1:
    return [tf.keras.layers.DepthwiseConv2D(kernel, padding="same", dilation_rate=2,
                                            use_bias=False)]
  window_pads = pads(kernel, dilation=2)
  return [tf.keras.layers.ZeroPadding2D((window_pads, window_pads)), Subsample(stride),
          tf.keras.layers.DepthwiseConv2D(kernel, padding="valid", use_bias=False)]


def conv_bn(filters, kernel, stride=1, affine=True, relu_before=True):
  """[ReLU ->] Conv -> BN: DARTS's ReLUConvBN (conv_kxk ops, preprocessing) and the stems."""
  relu = [tf.keras.layers.ReLU()] if relu_before else []
  return Chain(relu + conv(filters, kernel, stride) + [batch_norm(affine)])


def _separable(channels, depthwise, affine):
  return [tf.keras.layers.ReLU(), *depthwise, *conv(channels, 1), batch_norm(affine)]


def sep_conv(spec, channels, stride, affine=True):
  """(ReLU -> depthwise kxk -> pointwise -> BN) twice, the first with the stride."""
  kernel = spec.kernel
  return Chain(_separable(channels, conv(channels, kernel, stride, depthwise=True), affine)
               + _separable(channels, conv(channels, kernel, 1, depthwise=True), affine))


def dil_conv(spec, channels, stride, affine=True):
  """ReLU -> depthwise kxk of dilation 2 -> pointwise -> BN."""
  return Chain(_separable(channels, dilated_depthwise(spec.kernel, stride), affine))


def factorized_conv(spec, channels, stride, affine=True):
  """ReLU -> Conv 1xk (stride (1, s)) -> Conv kx1 (stride (s, 1)) -> BN (conv_1xk_kx1)."""
  kernel = spec.kernel
  return Chain([tf.keras.layers.ReLU(), *conv(channels, (1, kernel), (1, stride)),
                *conv(channels, (kernel, 1), (stride, 1)), batch_norm(affine)])


def _null(spec, channels, stride, affine):
  return Zero(stride)


def _skip(spec, channels, stride, affine):
  return tf.keras.layers.Identity() if stride == 1 else FactorizedReduce(channels, affine)


def _pool(spec, channels, stride, affine):
  return Pool(spec.pool, spec.kernel, stride)


def _conv(spec, channels, stride, affine):
  return conv_bn(channels, spec.kernel, stride, affine)


_FAMILY_LAYERS = {ops.OpFamily.NULL: _null, ops.OpFamily.SKIP: _skip, ops.OpFamily.POOL: _pool,
                  ops.OpFamily.CONV: _conv, ops.OpFamily.SEP_CONV: sep_conv,
                  ops.OpFamily.DIL_CONV: dil_conv, ops.OpFamily.FACTORIZED_CONV: factorized_conv}


def make_op(name, channels, stride, affine=True, pool_bn=False):
  """The layer of edge op `name`, `channels` wide, of stride 1 or 2.

  affine=False gives batch-norm without scale and offset; pool_bn=True follows
  pooling with a batch-norm (both as in the reference supernet).
  """
  spec = ops.op_spec(name)
  if stride not in (1, 2):
    raise UsageError(f"stride={stride} for op {name!r}: edges have stride 1 or 2")
  layer = _FAMILY_LAYERS[spec.family](spec, channels, stride, affine)
  if pool_bn and spec.family is ops.OpFamily.POOL:
    return Chain([layer, batch_norm(affine)])
  return layer


def make_preprocess(kind, channels, affine=True):
  """The layer bringing a cell input to `channels` wide as `kind` (macro.IDENTITY, ...) says.

  An unused input gets an identity: no weights, and the cell never reads it.
  """
  if kind == macro.CONV:
    return conv_bn(channels, 1, 1, affine)
  if kind == macro.REDUCE:
    return FactorizedReduce(channels, affine)
  return tf.keras.layers.Identity()


def pads(kernel, dilation=1):
  """[before, after] padding of a window, as the reference pads it (see the module doc)."""
  extent = dilation * (kernel - 1) + 1
  return [(extent - 1) // 2, extent // 2]


def _pair(value):
  return tuple(value) if isinstance(value, (tuple, list)) else (value, value)
