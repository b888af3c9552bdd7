"""The bundled digits dataset: a real TFDS dataset with a fixed split."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from nat_tf.data import datasets
from nat_tf.data import digits


def test_digits_reads_back_through_tfds_load(digits_data_dir):
  train, test = tfds.load("digits", split=["train", "test"], data_dir=digits_data_dir)
  assert (len(train), len(test)) == (1500, 297)
  example = next(iter(train))
  assert example["image"].shape == (8, 8, 1) and example["image"].dtype.name == "uint8"
  assert {int(example["label"]) for example in test} == set(range(10))


def test_load_gives_uint8_images_and_int32_labels(digits_data_dir):
  image, label = next(iter(datasets.load("digits", "test", data_dir=digits_data_dir)))
  assert (image.shape, image.dtype.name, label.dtype.name) == ((8, 8, 1), "uint8", "int32")


def test_split_is_fixed_and_uses_every_image_once():
  first, second = digits.arrays(), digits.arrays()
  for split in ("train", "test"):
    np.testing.assert_array_equal(first[split][0], second[split][0])
  images = np.concatenate([first["train"][0], first["test"][0]]).reshape(1797, -1)
  assert len(np.unique(images, axis=0)) == 1797


def test_normalisation_constants_match_the_training_images():
  pixels = digits.arrays()["train"][0] / 255.0
  facts = datasets.info("digits")
  assert facts.mean[0] == pytest.approx(pixels.mean(), abs=1e-4)
  assert facts.std[0] == pytest.approx(pixels.std(), abs=1e-4)
