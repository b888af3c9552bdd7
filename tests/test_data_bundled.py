"""Bundled datasets are written into a data dir once and atomically (nat_tf.data.bundled)."""

import os

import pytest
import tensorflow_datasets as tfds

from nat_tf.data import digits


def _leftovers(data_dir):
  return [name for name in os.listdir(data_dir) if name.startswith(".")]


def test_prepare_is_idempotent(digits_data_dir):
  info_file = os.path.join(digits.DATASET.version_dir(digits_data_dir), "dataset_info.json")
  before = os.stat(info_file).st_mtime_ns
  assert digits.DATASET.prepare(digits_data_dir) == digits.DATASET.version_dir(digits_data_dir)
  assert os.stat(info_file).st_mtime_ns == before


def test_interrupted_write_leaves_no_dataset_behind(tmp_path, monkeypatch):
  dataset = digits.DATASET

  def write_then_die(splits, data_dir):
    del splits
    os.makedirs(dataset.version_dir(data_dir))
    raise KeyboardInterrupt

  monkeypatch.setattr(dataset, "write", write_then_die)
  with pytest.raises(KeyboardInterrupt):
    dataset.prepare(str(tmp_path))
  assert not dataset.is_prepared(str(tmp_path)) and not _leftovers(str(tmp_path))
  monkeypatch.undo()
  dataset.prepare(str(tmp_path))
  assert dataset.is_prepared(str(tmp_path)) and not _leftovers(str(tmp_path))


def test_losing_a_race_keeps_the_winners_copy(tmp_path, monkeypatch):
  data_dir, dataset = str(tmp_path), digits.DATASET
  write = dataset.write

  def another_process_finishes_first(splits, staging):
    write(splits, staging)
    monkeypatch.setattr(dataset, "write", write)
    dataset.prepare(data_dir)

  monkeypatch.setattr(dataset, "write", another_process_finishes_first)
  dataset.prepare(data_dir)
  assert len(tfds.load("digits", split="train", data_dir=data_dir)) == 1500
  assert not _leftovers(data_dir)
