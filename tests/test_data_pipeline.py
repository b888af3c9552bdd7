"""Batching and augmentation: shapes, dtypes, and the per-(seed, epoch) resume guarantee."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from nat_tf.data import datasets
from nat_tf.data import pipeline
from nat_tf.errors import UsageError

DIGITS = datasets.info("digits")


@pytest.fixture(scope="module")
def train(digits_data_dir):
  return datasets.load("digits", "train", data_dir=digits_data_dir).take(320)


def _epoch(train, **kwargs):
  settings = dict(batch_size=32, training=True, seed=7, epoch=2)
  settings.update(kwargs)
  return [(images.numpy(), labels.numpy())
          for images, labels in pipeline.batches(train, DIGITS, **settings)]


def _same(first, second):
  return len(first) == len(second) and all(
      np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(first, second))


def test_shapes_dtypes_and_length(train):
  batches = pipeline.batches(train, DIGITS, 32, training=True)
  assert len(batches) == 10
  images, labels = next(iter(batches))
  assert (images.shape, images.dtype, labels.shape, labels.dtype) == (
      (32, 8, 8, 1), tf.float32, (32,), tf.int32)


def test_same_seed_and_epoch_give_the_same_batches_and_skip_resumes(train):
  epoch = _epoch(train)
  assert _same(epoch, _epoch(train))
  restarted = pipeline.batches(train, DIGITS, 32, True, seed=7, epoch=2)
  resumed = [(images.numpy(), labels.numpy()) for images, labels in restarted.skip(4)]
  assert _same(epoch[4:], resumed)


def test_other_epoch_or_seed_gives_another_order(train):
  epoch = _epoch(train)
  for other in (_epoch(train, epoch=3), _epoch(train, seed=8)):
    assert not np.array_equal(epoch[0][1], other[0][1])


def test_evaluation_keeps_order_and_last_partial_batch(train):
  batches = list(pipeline.batches(train.take(70), DIGITS, 32, training=False, drop_remainder=False))
  assert [len(labels) for _, labels in batches] == [32, 32, 6]
  labels = np.concatenate([labels.numpy() for _, labels in batches])
  np.testing.assert_array_equal(labels, [label.numpy() for _, label in train.take(70)])


def test_cutout_zeroes_a_square(train):
  cut = _epoch(train, cutout=4)
  plain = _epoch(train)
  zeroed = (cut[0][0] == 0) & (plain[0][0] != 0)
  assert zeroed.any() and np.array_equal(cut[0][1], plain[0][1])
  with pytest.raises(UsageError, match="cutout length 16"):
    pipeline.batches(train, DIGITS, 32, training=True, cutout=16)


def test_bad_batch_size_names_the_fix(train):
  with pytest.raises(UsageError, match="batch_size"):
    pipeline.batches(train, DIGITS, 0, training=True)


@pytest.fixture
def mocked_tfds(monkeypatch):
  """tfds.testing.mock_data serves random examples with the real shapes; claim they are prepared."""
  monkeypatch.setattr(tfds.core.DatasetBuilder, "is_prepared", lambda self: True)
  with tfds.testing.mock_data(num_examples=8):
    yield


@pytest.mark.parametrize("name, side", [("cifar10", 32), ("imagenet2012", 224)])
@pytest.mark.parametrize("training", [True, False])
def test_real_dataset_pipelines_offline(mocked_tfds, tmp_path, name, side, training):
  facts = datasets.info(name)
  raw = datasets.load(name, facts.train_split, data_dir=str(tmp_path))
  batches = pipeline.batches(raw, facts, 4, training=training, cutout=16 if training else 0)
  for images, labels in batches:
    assert (images.shape, images.dtype, labels.shape, labels.dtype) == (
        (4, side, side, 3), tf.float32, (4,), tf.int32)
    assert np.isfinite(images.numpy()).all()
