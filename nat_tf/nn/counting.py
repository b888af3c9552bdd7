"""Parameters and multiply-adds read from a built Keras model.

An independent check of the analytic cost model: nothing here knows the network's
structure. Conventions (the reference code): trainable variables only; a convolution or
dense layer costs its kernel size times its output positions (Cin*Cout*kh*kw*Hout*Wout
/ groups, in*out), everything else nothing; the auxiliary head counted apart.
"""

import math

import tensorflow as tf

from nat_tf.nn import network as network_lib
from nat_tf.space import cost
from nat_tf.space import networks


def trainable_params(layer):
  return sum(v.shape.num_elements() for v in layer.trainable_variables)


def layer_madds(layer):
  """Multiply-adds of one layer (0 unless a convolution or a dense layer); it must be built."""
  if isinstance(layer, tf.keras.layers.DepthwiseConv2D):
    kernel = layer.depthwise_kernel
  elif isinstance(layer, (tf.keras.layers.Conv2D, tf.keras.layers.Dense)):
    kernel = layer.kernel
  else:
    return 0
  output_shape = layer.compute_output_shape(layer.get_build_config()["input_shape"])
  return kernel.shape.num_elements() * math.prod(output_shape[1:-1])


def madds(layer):
  return sum(layer_madds(module) for module in (layer, *layer.submodules))


def count(model):
  """A cost.NetworkCost read from a built network (auxiliary head apart)."""
  head = model.auxiliary_head
  head_params, head_madds = (trainable_params(head), madds(head)) if head is not None else (0, 0)
  return cost.NetworkCost(trainable_params(model) - head_params, madds(model) - head_madds,
                          head_params, head_madds)


def report(genotype, dataset="cifar10", channels=None, layers=None, auxiliary=False,
           network=networks.DARTS):
  """cost.report's dict, counted on the built Keras model instead of analytically.

  Built from these arguments alone (not through the gin-configurable builder), so it
  reports what it is asked about whatever gin binds.
  """
  skeleton = networks.skeleton(genotype, network, dataset, channels, layers)
  model = network_lib.built(network_lib.Network(genotype, skeleton, auxiliary))
  return cost.summary(skeleton, dataset, auxiliary, count(model))
