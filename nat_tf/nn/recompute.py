"""Gradients that run a piece of the network again instead of keeping its activations.

`tf.recompute_grad` is not enough inside a traced function: its recomputation depends
only on the forward inputs, so the executor is free to run it as soon as those exist,
during the forward pass, and the activations it was meant to drop are held anyway.
Here the recomputation waits for the gradient of the output, so it runs in the
backward pass, one piece at a time.
"""

import tensorflow as tf


def recomputed(fn, *inputs):
  """fn(*inputs) (one output tensor); its gradient recomputes fn once the output's
  gradient exists. Variables fn reads get their gradients too."""

  @tf.custom_gradient
  def forward(*inputs):
    def grad(upstream, variables=None):
      with tf.control_dependencies([upstream]):
        again = [tf.identity(t) for t in inputs]
      with tf.GradientTape() as tape:
        tape.watch(again)
        output = fn(*again)
      variables = list(variables or [])
      grads = tape.gradient(output, again + variables, output_gradients=upstream)
      if not variables:
        return grads
      return grads[:len(again)], grads[len(again):]

    return fn(*inputs), grad

  return forward(*inputs)
