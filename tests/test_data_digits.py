"""The bundled digits dataset: a real TFDS dataset, written once and atomically."""

import os

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


def test_prepare_is_idempotent(digits_data_dir):
  info_file = os.path.join(digits.version_dir(digits_data_dir), "dataset_info.json")
  before = os.stat(info_file).st_mtime_ns
  assert digits.prepare(digits_data_dir) == digits.version_dir(digits_data_dir)
  assert os.stat(info_file).st_mtime_ns == before


def _leftovers(data_dir):
  return [name for name in os.listdir(data_dir) if name.startswith(".")]


def test_interrupted_write_leaves_no_dataset_behind(tmp_path, monkeypatch):
  def write_then_die(data_dir):
    os.makedirs(digits.version_dir(data_dir))
    raise KeyboardInterrupt

  monkeypatch.setattr(digits, "_write", write_then_die)
  with pytest.raises(KeyboardInterrupt):
    digits.prepare(str(tmp_path))
  assert not digits.is_prepared(str(tmp_path)) and not _leftovers(str(tmp_path))
  monkeypatch.undo()
  digits.prepare(str(tmp_path))
  assert digits.is_prepared(str(tmp_path)) and not _leftovers(str(tmp_path))


def test_losing_a_race_keeps_the_winners_copy(tmp_path, monkeypatch):
  data_dir = str(tmp_path)
  write = digits._write  # pylint: disable=protected-access

  def another_process_finishes_first(staging):
    write(staging)
    monkeypatch.setattr(digits, "_write", write)
    digits.prepare(data_dir)

  monkeypatch.setattr(digits, "_write", another_process_finishes_first)
  digits.prepare(data_dir)
  assert len(tfds.load("digits", split="train", data_dir=data_dir)) == 1500
  assert not _leftovers(data_dir)
