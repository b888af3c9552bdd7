"""NAS-Bench-201's network (the benchmark's TinyNetwork) around one cell, as a Keras model.

Laid out from nasbench201.Skeleton, the plain data its cost model reads, and made of the
project's layers (layers.make_op for the edge ops, layers.conv_bn for the stem and the
residual blocks), so that the counts read from the model equal
nasbench201.network_cost exactly (tests/test_nn_nasbench201.py) and a cell computes
what the benchmark trained: every edge its op at stride 1, every node the sum of its
edges. Batch-norm is affine throughout, as the benchmark's; there is no drop path and
no auxiliary head.
"""

import tensorflow as tf

from nat_tf.nn import layers
from nat_tf.nn import network
from nat_tf.space import nasbench201


class NasBench201Cell(tf.keras.layers.Layer):
  """A cell `channels` wide: node k sums its edges' ops on every earlier node; called on
  node 0, it returns node 3. Null edges are built too (zeros, no weights), so a node of
  null edges only is zeros, as in the benchmark."""

  def __init__(self, cell, channels, **kwargs):
    super().__init__(**kwargs)
    self.edge_ops = [layers.make_op(op, channels, 1) for op in nasbench201.check(cell).ops]

  def call(self, inputs, training=None):
    nodes = [inputs]
    for node in range(1, nasbench201.OUTPUT_NODE + 1):
      nodes.append(tf.add_n([op(nodes[src], training=training)
                             for (src, dst), op in zip(nasbench201.EDGES, self.edge_ops)
                             if dst == node]))
    return nodes[nasbench201.OUTPUT_NODE]


class ResidualBlock(tf.keras.layers.Layer):
  """The benchmark's stride-2 ResNet basic block between stages, to `channels` wide:
  ReLU-Conv3x3(stride 2)-BN then ReLU-Conv3x3-BN, plus a shortcut of 2x2 average pooling
  and a bias-free 1x1 conv without BN."""

  def __init__(self, channels, **kwargs):
    super().__init__(**kwargs)
    self.conv_a = layers.conv_bn(channels, 3, 2)
    self.conv_b = layers.conv_bn(channels, 3, 1)
    self.shortcut = layers.Chain([tf.keras.layers.AveragePooling2D(2), *layers.conv(channels, 1)])

  def call(self, inputs, training=None):
    main = self.conv_b(self.conv_a(inputs, training=training), training=training)
    return self.shortcut(inputs, training=training) + main


class NasBench201Network(tf.keras.Model):
  """Called on images [batch, H, W, C] (the skeleton's): logits [batch, classes]."""

  def __init__(self, cell, skeleton, **kwargs):
    super().__init__(**kwargs)
    self.genotype_cell = nasbench201.check(cell)
    self.skeleton = skeleton
    self.auxiliary_head = None  # counting.count and network.built read it
    self.stem = layers.conv_bn(skeleton.channels, 3, relu_before=False)
    self.blocks = []
    for stage, (width, _) in enumerate(skeleton.stages):
      if stage:
        self.blocks.append(ResidualBlock(width))
      self.blocks += [NasBench201Cell(cell, width) for _ in range(skeleton.cells_per_stage)]
    self.head = layers.Chain([layers.batch_norm(), tf.keras.layers.ReLU()])
    self.global_pooling = tf.keras.layers.GlobalAveragePooling2D()
    self.classifier = tf.keras.layers.Dense(skeleton.num_classes)

  @property
  def image_shape(self):
    """(height, width, channels) of the images the network was laid out for."""
    return (self.skeleton.image_size, self.skeleton.image_size, self.skeleton.in_channels)

  def call(self, inputs, training=None):
    x = self.stem(inputs, training=training)
    for block in self.blocks:
      x = block(x, training=training)
    return self.classifier(self.global_pooling(self.head(x, training=training)))


def build(cell, **sizing):
  """The built NasBench201Network of `cell`; `sizing`: nasbench201.skeleton's arguments."""
  return network.built(NasBench201Network(cell, nasbench201.skeleton(**sizing)))
