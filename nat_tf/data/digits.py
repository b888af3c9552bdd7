"""The bundled offline dataset: scikit-learn's handwritten digits as a real TFDS dataset.

scikit-learn ships the 1,797 8x8 grey digits inside its wheel, so the main job and
the tests run without internet and still read through tensorflow-datasets like
CIFAR-10. The train/test split is a fact of the dataset (fixed seed), not a
setting: changing it would change what "digits 1.0.0" means.
"""

import os
import tempfile

import numpy as np
from sklearn.datasets import load_digits
import tensorflow as tf
import tensorflow_datasets as tfds

NAME = "digits"
VERSION = "1.0.0"
TRAIN_SIZE = 1500  # of 1,797; the other 297 are the test split
SPLIT_SEED = 0
_SKLEARN_MAX = 16  # scikit-learn's pixel values run 0..16


def version_dir(data_dir):
  return os.path.join(data_dir, NAME, VERSION)


def is_prepared(data_dir):
  return os.path.isfile(os.path.join(version_dir(data_dir), "dataset_info.json"))


def prepare(data_dir):
  """Write digits into `data_dir` unless it is there; return its version folder.

  The dataset is written into a temporary folder inside `data_dir` and renamed
  into place in one step, so an interrupted write leaves nothing a reader would
  take for the dataset, and of two processes racing, the second to finish keeps
  the first one's (identical) copy. `data_dir` must be a local folder.
  """
  target = version_dir(data_dir)
  if is_prepared(data_dir):
    return target
  os.makedirs(os.path.dirname(target), exist_ok=True)
  with tempfile.TemporaryDirectory(dir=data_dir, prefix=f".{NAME}.", suffix=".tmp") as staging:
    _write(staging)
    try:
      os.rename(version_dir(staging), target)
    except OSError:
      if not is_prepared(data_dir):
        raise
  return target


def arrays():
  """{split: (uint8 images [N, 8, 8, 1] in 0..255, int64 labels [N])}, in scikit-learn's order."""
  bunch = load_digits()
  images = np.round(bunch.images * (255 / _SKLEARN_MAX)).astype(np.uint8)[..., np.newaxis]
  labels = bunch.target.astype(np.int64)
  order = np.random.RandomState(SPLIT_SEED).permutation(len(labels))
  train = np.sort(order[:TRAIN_SIZE])
  test = np.sort(order[TRAIN_SIZE:])
  return {"train": (images[train], labels[train]), "test": (images[test], labels[test])}


def _write(data_dir):
  features = tfds.features.FeaturesDict({
      "image": tfds.features.Image(shape=(8, 8, 1)),
      "label": tfds.features.ClassLabel(num_classes=10),
  })
  splits = {split: tf.data.Dataset.from_tensor_slices({"image": images, "label": labels})
            for split, (images, labels) in arrays().items()}
  tfds.dataset_builders.store_as_tfds_dataset(
      name=NAME, version=VERSION, features=features, split_datasets=splits, data_dir=data_dir,
      description="scikit-learn load_digits: 8x8 grey digits, pixels scaled 0..16 -> 0..255",
      homepage="https://scikit-learn.org/stable/datasets/toy_dataset.html#digits-dataset",
      disable_shuffling=True)
