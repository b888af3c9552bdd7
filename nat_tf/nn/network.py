"""Networks built from a genotype and a skeleton: DARTS CIFAR / ImageNet and hand-crafted.

The skeleton (`nat_tf.space.macro`, `nat_tf.space.handcrafted`) is the same plain
data the analytic cost model reads, so the Keras model and the cost model cannot
disagree about the network's shape (the reference code): stems, cells, the auxiliary head
after cell 2L//3 (training only), head convs, global average pooling and a linear
classifier, batch-norm affine throughout.
"""

from absl import logging
import gin
import tensorflow as tf

from nat_tf.errors import UsageError
from nat_tf.nn import cell as cell_lib
from nat_tf.nn import layers as nn_layers
from nat_tf.space import cost
from nat_tf.space import handcrafted
from nat_tf.space import networks


class Network(tf.keras.Model):
  """Called on images [batch, H, W, C]: logits, or (logits, auxiliary logits) in
  training when the auxiliary head is on.

  `drop_path_rate` is the current drop-path probability (a variable, initially
  `drop_path`); `schedule_drop_path` sets it to the DARTS linear schedule.
  """

  def __init__(self, genotype, skeleton, auxiliary=False, drop_path=0.0, **kwargs):
    super().__init__(**kwargs)
    if auxiliary:
      cost.auxiliary_cost(skeleton)  # raises the cost model's UsageError where it cannot fit
    if not 0.0 <= drop_path < 1.0:
      raise UsageError(f"drop_path={drop_path}: the drop-path probability must be in [0, 1)")
    self.skeleton = skeleton
    self.drop_path = drop_path
    self.drop_path_rate = tf.Variable(float(drop_path), trainable=False, name="drop_path_rate")
    self.stem0 = _convs(skeleton.stem0)
    self.stem1 = _convs(skeleton.stem1)
    self.cells = [cell_lib.Cell(genotype.reduce if slot.reduction else genotype.normal, slot,
                                self.drop_path_rate) for slot in skeleton.cells]
    self.auxiliary_head = _auxiliary_head(skeleton) if auxiliary else None
    self.head = _convs(skeleton.head)
    self.global_pooling = tf.keras.layers.GlobalAveragePooling2D()
    self.classifier = tf.keras.layers.Dense(skeleton.num_classes)

  @property
  def image_shape(self):
    """(height, width, channels) of the images the network was laid out for."""
    return (self.skeleton.image_size, self.skeleton.image_size, self.skeleton.in_channels)

  def call(self, inputs, training=None):
    s0 = self.stem0(inputs, training=training)
    s1 = self.stem1(s0, training=training)
    auxiliary_logits = None
    for index, cell in enumerate(self.cells):
      s0, s1 = s1, cell((s0, s1), training=training)
      if training and self.auxiliary_head is not None and index == self.skeleton.auxiliary_index:
        auxiliary_logits = self.auxiliary_head(s1, training=training)
    logits = self.classifier(self.global_pooling(self.head(s1, training=training)))
    return logits if auxiliary_logits is None else (logits, auxiliary_logits)

  def schedule_drop_path(self, epoch, epochs):
    """Drop path at drop_path * epoch / epochs, the reference's linear schedule."""
    self.drop_path_rate.assign(self.drop_path * epoch / epochs)


def _convs(stem_convs):
  """A skeleton's StemConv list as layers; empty: the identity (CIFAR's stem1)."""
  return nn_layers.Chain([nn_layers.conv_bn(s.c_out, s.kernel, s.stride,
                                            relu_before=s.relu_before) for s in stem_convs])


def _auxiliary_head(skeleton):
  """DARTS auxiliary head: ReLU, avgpool 5, conv1x1 128, BN, ReLU, conv2x2 768, (BN,) ReLU,
  flatten, linear; ImageNet's lacks the second BN (see cost.auxiliary_cost)."""
  relu, conv = tf.keras.layers.ReLU, tf.keras.layers.Conv2D  # unpadded, as the reference
  steps = [relu(), tf.keras.layers.AveragePooling2D(5, skeleton.auxiliary_pool_stride),
           conv(128, 1, use_bias=False), nn_layers.batch_norm(), relu(),
           conv(768, 2, use_bias=False)]
  if skeleton.auxiliary_final_bn:
    steps.append(nn_layers.batch_norm())
  steps += [relu(), tf.keras.layers.Flatten(), tf.keras.layers.Dense(skeleton.num_classes)]
  return nn_layers.Chain(steps, name="auxiliary_head")


def built(model):
  """`model` with every weight created, by an inference pass on zeros (auxiliary head too)."""
  model(tf.zeros((1,) + model.image_shape), training=False)
  if model.auxiliary_head is not None:
    channels, size = model.skeleton.auxiliary_in
    model.auxiliary_head(tf.zeros((1, size, size, channels)), training=False)
  return model


def own_network(genotype):
  """The network a `build_network` left to choose builds, logged with how to choose
  another: the hand-crafted one a block (or a transformation of one) is made for, else
  the DARTS network."""
  network = handcrafted.own_network(genotype)
  if network is None:
    return networks.DARTS
  others = [n for n in handcrafted.networks_of_block(genotype) if n != network]
  logging.info("the genotype is %s or a transformation of it: building %s at its own widths "
               "and depth, without an auxiliary head (build_network.channels, .layers and "
               ".auxiliary set up the DARTS network and are not used); bind "
               "build_network.network = %s to build another", handcrafted.layout(network).block,
               network, " or ".join(repr(n) for n in others + [networks.DARTS]))
  return network


@gin.configurable
def build_network(genotype, network=None, dataset="cifar10", channels=None, layers=None,
                  auxiliary=False, drop_path=0.0):
  """A built network of `genotype`: the DARTS layout of `dataset` (width `channels`,
  `layers` cells, an `auxiliary` head) or a hand-crafted one (`network` in
  nat_tf.space.handcrafted.NAMES, which fixes those three itself); `network` None: the
  genotype's own (see `own_network`), so a protocol file serves both kinds."""
  if network is None:
    network = own_network(genotype)
    if network != networks.DARTS:
      channels, layers, auxiliary = None, None, False
  skeleton = networks.skeleton(genotype, network, dataset, channels, layers)
  return built(Network(genotype, skeleton, auxiliary, drop_path))
