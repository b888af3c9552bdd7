"""DARTS networks: counts read from the Keras models equal the analytic cost model
exactly; auxiliary head, drop path and a few training steps."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from nat_tf.errors import UsageError
from nat_tf.nn import counting
from nat_tf.nn import layers
from nat_tf.nn import network
from nat_tf.space import catalogue
from nat_tf.space import cost
from nat_tf.space import genotype_format
from nat_tf.space import macro
from nat_tf.space import ops

SMALL = {"channels": 4, "layers": 3}  # both reductions, a factorized-reduce preprocessing


@pytest.mark.parametrize("dataset", ["cifar10", "imagenet"])
@pytest.mark.parametrize("name", catalogue.names())
def test_model_counts_equal_the_cost_model_for_every_catalogue_genotype(name, dataset):
  genotype = catalogue.get(name)
  expected = cost.report(genotype, dataset, auxiliary=True, **SMALL)
  assert counting.report(genotype, dataset, auxiliary=True, **SMALL) == expected


def _no_pooling(genotype):
  """`genotype` with every pooling edge null, unpruned (DARTS_V2: a wholly dead reduction)."""
  return genotype.replace(**{name: cell.with_ops([ops.NULL if ops.is_pooling(op) else op
                                                  for op in cell.ops])
                             for name, cell in genotype.cells.items()})


# Genotypes with dead nodes: published NAT outputs, and a cell with no live node at all.
DEAD = {"NAT_R2": catalogue.get("NAT_R2"), "NAT_R3": catalogue.get("NAT_R3"),
        "DARTS_V2 no pooling": _no_pooling(catalogue.get("DARTS_V2"))}


@pytest.mark.parametrize("dataset", ["cifar10", "imagenet"])
@pytest.mark.parametrize("name", sorted(DEAD))
def test_model_counts_equal_the_cost_model_for_pruned_cells_and_fall(name, dataset):
  pruned = DEAD[name].pruned()
  expected = cost.report(pruned, dataset, auxiliary=True, **SMALL)
  assert counting.report(pruned, dataset, auxiliary=True, **SMALL) == expected
  unpruned = counting.report(DEAD[name], dataset, auxiliary=True, **SMALL)
  for key in ("params", "madds"):
    assert expected[key] < unpruned[key], key


@pytest.mark.parametrize("dataset, params, madds", [
    ("cifar10", 3_349_342, 528_359_040), ("imagenet", 4_718_752, 529_911_552)])
def test_darts_v2_at_full_size(dataset, params, madds):
  model = network.build_network(catalogue.get("DARTS_V2"), dataset=dataset)
  assert counting.count(model)[:2] == (params, madds)


@pytest.fixture(scope="module")
def digits_network():
  """DARTS V2 at C=8, L=5 on the bundled digits' 8x8 grey images, drop path 0.3."""
  return network.build_network(catalogue.get("DARTS_V2"), dataset="digits", channels=8,
                               layers=5, drop_path=0.3)


@pytest.fixture(scope="module")
def digits_batch():
  images = tf.random.stateless_uniform([16, 8, 8, 1], seed=[3, 0])
  labels = tf.random.stateless_uniform([16], seed=[3, 1], maxval=10, dtype=tf.int32)
  return images, labels


def test_drop_path_changes_outputs_in_training_only(digits_network, digits_batch):
  images, _ = digits_batch
  inference = digits_network(images, training=False)
  digits_network.schedule_drop_path(0, 10)
  assert float(digits_network.drop_path_rate) == 0.0
  np.testing.assert_array_equal(digits_network(images, training=False), inference)
  without = digits_network(images, training=True)
  np.testing.assert_array_equal(digits_network(images, training=True), without)
  digits_network.schedule_drop_path(5, 10)
  assert float(digits_network.drop_path_rate) == pytest.approx(0.15)
  assert not np.allclose(digits_network(images, training=True), without)


def _dropped_edges(cell):
  """(src, dst) of the cell's edges whose op is followed by drop path."""
  return {(edge.src, edge.dst) for edge, op in zip(cell.live_edges, cell.edge_ops)
          if any(isinstance(step, layers.DropPath) for step in getattr(op, "steps", ()))}


def test_drop_path_spares_a_nodes_only_input_and_the_identity():
  darts, resblock = (network.Network(catalogue.get(name), macro.skeleton(
      catalogue.get(name), "digits", 8, 5), drop_path=0.2) for name in ("DARTS_V2", "ResBlock"))
  normal, reduce = darts.cells[0].genotype_cell, darts.cells[1].genotype_cell
  assert _dropped_edges(darts.cells[0]) == {(e.src, e.dst) for e in normal.edges
                                            if e.op != "skip_connect"}  # two inputs per node
  assert _dropped_edges(darts.cells[1]) == {(e.src, e.dst) for e in reduce.edges
                                            if e.op != "skip_connect" or e.src < 2}
  # ResBlock's reduction cell: 1 -> 2 -> 3 -> 4 -> 5 and 2 -> 5; only node 5 has two inputs,
  # both identities inside the cell, so nothing in it is dropped
  assert _dropped_edges(resblock.cells[1]) == set()


def test_auxiliary_logits_in_training_only():
  model = network.build_network(catalogue.get("DARTS_V2"), channels=4, layers=3, auxiliary=True)
  images = tf.zeros([2, 32, 32, 3])
  logits, auxiliary = model(images, training=True)
  assert logits.shape == auxiliary.shape == (2, 10)
  assert model(images, training=False).shape == (2, 10)


def test_auxiliary_head_on_maps_too_small_raises_the_cost_models_error():
  genotype = catalogue.get("DARTS_V2")
  with pytest.raises(UsageError, match="auxiliary head needs feature maps of at least 8x8"):
    cost.report(genotype, "digits", 8, 5, auxiliary=True)
  with pytest.raises(UsageError, match="auxiliary head needs feature maps of at least 8x8"):
    network.Network(genotype, macro.skeleton(genotype, "digits", 8, 5), auxiliary=True)


def test_bad_drop_path_is_a_usage_error():
  genotype = catalogue.get("DARTS_V2")
  with pytest.raises(UsageError, match="drop_path=1.0"):
    network.Network(genotype, macro.skeleton(genotype, "digits", 8, 5), drop_path=1.0)


def test_tiny_network_loss_decreases_when_trained(digits_batch):
  tf.keras.utils.set_random_seed(0)
  images, labels = digits_batch
  model = network.build_network(catalogue.get("DARTS_V2"), dataset="digits", channels=8,
                                layers=5, drop_path=0.1)
  optimizer = tf.keras.optimizers.Adam(0.01)
  loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
  losses = []
  for _ in range(8):  # eagerly: tracing the step would cost more than the steps
    with tf.GradientTape() as tape:
      loss = loss_fn(labels, model(images, training=True))
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                  model.trainable_variables))
    losses.append(float(loss))
  assert losses[0] > 2.0, losses  # about ln(10): untrained
  assert np.mean(losses[-3:]) < 0.6 * losses[0], losses


@pytest.mark.parametrize("genotype", ["ENAS", "pruned NAT_R3"])
def test_bin_cost_from_model_reports_the_analytic_numbers(genotype, tmp_path):
  if genotype.startswith("pruned"):  # a genotype file with a dead node left out
    path = tmp_path / "pruned.json"
    path.write_text(genotype_format.to_json(DEAD["NAT_R3"].pruned()))
    genotype = str(path)
  args = [f"--genotype={genotype}", "--dataset=imagenet", "--channels=4", "--layers=3",
          "--auxiliary"]
  analytic, from_model = (
      subprocess.run([sys.executable, "bin/cost", *args, *extra], capture_output=True, text=True,
                     check=True).stdout for extra in ([], ["--from_model"]))
  assert json.loads(from_model) == json.loads(analytic)
