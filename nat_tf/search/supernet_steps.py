"""The supernet's distributed steps: the weight update and batched scoring.

Both run under the run's tf.distribute strategy: every replica takes its share of
the global minibatch, and the architecture is drawn once, outside the replicas,
so all replicas run the same one. Each is one traced function for every
architecture (the architecture is a tensor argument), so a new architecture
never retraces anything.
"""

import gin
import tensorflow as tf

from nat_tf.errors import UsageError
from nat_tf.nn import architecture as arch_lib
from nat_tf.training import sgd
from nat_tf.training import top1

SUM = tf.distribute.ReduceOp.SUM


@gin.configurable(denylist=["supernet", "strategy", "generator", "global_batch_size"])
class WeightTrainer(tf.Module):
  """One step = a fresh random input architecture, cross-entropy, one SGD update (as in the
  reference code).

  `transform_probability` > 0 (default 0, the reference's law) turns each edge of the
  drawn architecture, with that probability, into a skip or a null edge
  (architecture.randomly_transformed), so the weights also learn the transformed cells
  the supernet will score; 2/3 is a uniform NAT action on every edge."""

  def __init__(self, supernet, strategy, generator, global_batch_size, learning_rate=0.01,
               momentum=0.9, weight_decay=3e-4, transform_probability=0.0):
    if not 0.0 <= transform_probability <= 1.0:
      raise UsageError(f"WeightTrainer.transform_probability={transform_probability}: a "
                       "probability, between 0 and 1")
    super().__init__(name="weight_trainer")
    self.transform_probability = transform_probability
    self.supernet = supernet
    self.strategy = strategy
    self.generator = generator
    self.global_batch_size = global_batch_size
    self.base_learning_rate = learning_rate
    with strategy.scope():
      self.sgd = sgd.MomentumSGD(supernet.trainable_variables, learning_rate, momentum,
                                 weight_decay)
    self.step = tf.function(self._step, autograph=False)
    self.step_on = tf.function(self._step_on, autograph=False)

  def _step(self, iterator):
    """Returns {'loss', 'accuracy', 'finite'}; a non-finite step leaves the weights alone."""
    architecture = arch_lib.random(self.generator, 1, self.supernet.num_nodes,
                                   self.supernet.op_list)[0]
    if self.transform_probability:
      architecture = arch_lib.randomly_transformed(self.generator, architecture,
                                                   self.transform_probability,
                                                   self.supernet.op_list)
    return self._step_on(iterator, architecture)

  def _step_on(self, iterator, architecture):
    """The step on a given architecture [2, 2, E] instead of a drawn one: the bench
    replays the reference implementation's draws, so both time the same work."""
    images, labels = next(iterator)
    variables = self.supernet.trainable_variables
    loss, correct, grads = self.strategy.run(self._replica_gradients,
                                             args=(images, labels, architecture))
    loss = self.strategy.reduce(SUM, loss, axis=None)
    accuracy = self.strategy.reduce(SUM, correct, axis=None) / self.global_batch_size
    grads = [self.strategy.experimental_local_results(g)[0] for g in grads]
    finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in grads + [loss]])
    with tf.control_dependencies([self.sgd.apply(grads, variables, finite)]):
      return {"loss": tf.identity(loss), "accuracy": accuracy, "finite": finite}

  def _replica_gradients(self, images, labels, architecture):
    variables = self.supernet.trainable_variables
    with tf.GradientTape() as tape:
      logits = self.supernet(images, architecture)
      per_example = tf.keras.losses.sparse_categorical_crossentropy(labels, logits,
                                                                    from_logits=True)
      loss = tf.nn.compute_average_loss(per_example, global_batch_size=self.global_batch_size)
    grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
    grads = tf.distribute.get_replica_context().all_reduce(SUM, grads)
    return loss, top1.correct(logits, labels), grads


class Scorer:
  """Top-1 accuracy of M architectures on one global minibatch, summed over replicas, or
  (`per_example`) which examples each gets right, for paired tests between them."""

  def __init__(self, supernet, strategy, global_batch_size):
    self.supernet = supernet
    self.strategy = strategy
    self.global_batch_size = global_batch_size

  def __call__(self, images, labels, architectures):
    correct = self.strategy.run(self._replica_correct, args=(images, labels, architectures))
    return self.strategy.reduce(SUM, correct, axis=None) / self.global_batch_size

  def _replica_correct(self, images, labels, architectures):
    return tf.reduce_sum(self._replica_hits(images, labels, architectures), axis=1)

  def per_example(self, images, labels, architectures):
    """[M, global batch] 1.0 where architecture m classifies the example right; the
    replicas' parts concatenated in the order the batch was split."""
    hits = self.strategy.run(self._replica_hits, args=(images, labels, architectures))
    return self.strategy.gather(hits, axis=1)

  def _replica_hits(self, images, labels, architectures):
    stem = self.supernet.stem(images)

    def one(architecture):
      return top1.hits(self.supernet.from_stem(stem, architecture), labels)

    return tf.stop_gradient(tf.map_fn(one, architectures, fn_output_signature=tf.float32))
