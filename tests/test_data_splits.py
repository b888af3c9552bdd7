"""NAT's search splits: sizes, disjointness, determinism, and no test data."""

import numpy as np
import pytest

from nat_tf.data import datasets
from nat_tf.data import splits
from nat_tf.errors import UsageError


@pytest.fixture(scope="module")
def search(digits_data_dir):
  return splits.search_splits("digits", data_dir=digits_data_dir)


def _images(dataset):
  return np.concatenate([images.numpy() for images, _ in dataset.batch(1024)])


def test_sizes_follow_the_fractions(search):
  # 1,500 training images: 40% weights, the other 900 split 90% policy / 10% holdout.
  assert (search.weights_size, search.policy_size, search.holdout_size) == (600, 810, 90)
  assert (len(search.weights), len(search.policy), len(search.holdout)) == (600, 810, 90)


def test_parts_are_disjoint_and_cover_the_training_split(search):
  indices = np.concatenate([search.weights_indices, search.policy_indices, search.holdout_indices])
  assert sorted(indices) == list(range(1500))


def test_datasets_hold_exactly_their_indices(search, digits_data_dir):
  train = _images(datasets.load("digits", "train", data_dir=digits_data_dir))
  np.testing.assert_array_equal(_images(search.weights), train[search.weights_indices])
  np.testing.assert_array_equal(_images(search.holdout), train[search.holdout_indices])
  # No image appears in two parts (digits' 1,797 images are all distinct).
  flat = lambda dataset: {image.tobytes() for image in _images(dataset)}
  weights, policy, holdout = flat(search.weights), flat(search.policy), flat(search.holdout)
  assert not (weights & policy or weights & holdout or policy & holdout)


def test_no_test_image_is_used_for_search(search, digits_data_dir):
  test = {image.tobytes() for image in _images(splits.final_evaluation("digits", digits_data_dir))}
  used = np.concatenate([_images(search.weights), _images(search.policy), _images(search.holdout)])
  assert len(test) == 297 and not test & {image.tobytes() for image in used}


def test_same_seed_same_split_other_seed_other_split():
  first = splits.part_of_each_example(1500, 0.4, 0.1, seed=1234)
  # Pinned, so a change of the cutting rule (or of numpy's RandomState) cannot go unnoticed.
  assert np.flatnonzero(first == splits.WEIGHTS)[:8].tolist() == [0, 2, 4, 6, 11, 13, 21, 27]
  assert np.flatnonzero(first == splits.HOLDOUT)[:4].tolist() == [3, 10, 30, 41]
  np.testing.assert_array_equal(first, splits.part_of_each_example(1500, 0.4, 0.1, seed=1234))
  assert not np.array_equal(first, splits.part_of_each_example(1500, 0.4, 0.1, seed=1))


def test_nat_cifar10_sizes():
  parts = splits.part_of_each_example(50_000, 0.4, 0.1, seed=1234)
  assert np.bincount(parts).tolist() == [20_000, 27_000, 3_000]


@pytest.mark.parametrize("weights_fraction, holdout_fraction",
                         [(0.0, 0.1), (0.4, 1.0), (0.4, 1e-6)])
def test_bad_fractions_name_the_fix(weights_fraction, holdout_fraction):
  with pytest.raises(UsageError, match="fraction"):
    splits.part_of_each_example(1500, weights_fraction, holdout_fraction, seed=0)
