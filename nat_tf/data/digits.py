"""The first bundled dataset: scikit-learn's 1,797 handwritten 8x8 grey digits.

scikit-learn ships them inside its wheel (it comes in with spektral). Small enough
for a search to learn in minutes on two CPU cores, too small to tell trained
networks apart (one test image is 0.34%): that is what `mnist5k` is for.
"""

import numpy as np
from sklearn.datasets import load_digits

from nat_tf.data import bundled

NAME = "digits"
TRAIN_SIZE = 1500  # of 1,797; the other 297 are the test split
SPLIT_SEED = 0
_SKLEARN_MAX = 16  # scikit-learn's pixel values run 0..16


def arrays():
  """{split: (uint8 images [N, 8, 8, 1] in 0..255, int64 labels [N])}, in scikit-learn's order."""
  data = load_digits()
  images = np.round(data.images * (255 / _SKLEARN_MAX)).astype(np.uint8)[..., np.newaxis]
  labels = data.target.astype(np.int64)
  order = np.random.RandomState(SPLIT_SEED).permutation(len(labels))
  train = np.sort(order[:TRAIN_SIZE])
  test = np.sort(order[TRAIN_SIZE:])
  return {"train": (images[train], labels[train]), "test": (images[test], labels[test])}


DATASET = bundled.BundledDataset(
    NAME, "1.0.0", (8, 8, 1), 10, arrays,
    description="scikit-learn load_digits: 8x8 grey digits, pixels scaled 0..16 -> 0..255",
    homepage="https://scikit-learn.org/stable/datasets/toy_dataset.html#digits-dataset")
