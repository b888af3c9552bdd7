"""SGD with momentum and weight decay as PyTorch defines it, that can skip a step.

PyTorch (the reference): g <- g + wd * w; buf <- momentum * buf + g; w <- w - lr * buf.
Updates are applied in cross-replica context from gradients already summed over
replicas, so any tf.distribute strategy gives the same update; a step whose
gradients are not all finite changes nothing (neither weights nor momentum),
which a Keras optimizer cannot do inside a distributed step.
"""

import tensorflow as tf


class MomentumSGD(tf.Module):
  """Momentum buffers and learning rate of one set of variables (checkpointed)."""

  def __init__(self, variables, learning_rate, momentum=0.9, weight_decay=3e-4):
    super().__init__(name="momentum_sgd")
    self.momentum = momentum
    self.weight_decay = weight_decay
    self.learning_rate = tf.Variable(float(learning_rate), trainable=False, name="learning_rate")
    self.buffers = [tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False,
                                name=v.name.split(":")[0] + "/momentum") for v in variables]

  def apply(self, gradients, variables, finite):
    """One update if `finite`, else nothing; `gradients` are dense and replica-summed."""
    updates = []
    for grad, var, buf in zip(gradients, variables, self.buffers):
      grad = grad + self.weight_decay * var
      new_buf = tf.where(finite, self.momentum * buf + grad, buf)
      updates.append(buf.assign(new_buf))
      updates.append(var.assign_sub(tf.where(finite, self.learning_rate * new_buf,
                                             tf.zeros_like(new_buf))))
    return tf.group(updates)
