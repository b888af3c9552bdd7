"""The datasets NAT runs on: their facts, and their raw examples from TFDS.

Every dataset goes through tensorflow-datasets, the bundled `digits` and `mnist5k`
included, so search and final training read the same way whether the data is
CIFAR-10 on a GPU machine or digits on a laptop without internet.
"""

import dataclasses
import os
from typing import Optional, Tuple

import gin
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow_datasets.core import constants as tfds_constants

from nat_tf.data import availability
from nat_tf.data import digits
from nat_tf.data import mnist5k
from nat_tf.errors import UsageError
from nat_tf.space.ops import did_you_mean

AUTOTUNE = tf.data.AUTOTUNE


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
  """What the networks and pipelines need to know about a dataset.

  `family` names the network layout and augmentation: "cifar" (small fixed-size
  images; digits too) or "imagenet" (any stored size, cropped to `image_size`).
  """

  name: str
  image_size: int
  channels: int
  num_classes: int
  mean: Tuple[float, ...]
  std: Tuple[float, ...]
  train_split: str
  test_split: str
  family: str
  crop_padding: int  # "cifar" family: zero padding before the random crop
  random_flip: bool  # mirror images in training (not for digits: a mirrored 3 is no 3)
  cache_in_memory: bool  # small enough to keep decoded in memory

  @property
  def stored_shape(self):
    """Shape of a raw image: fixed for the "cifar" family, any size for ImageNet."""
    side = None if self.family == "imagenet" else self.image_size
    return (side, side, self.channels)


_CIFAR = dict(image_size=32, channels=3, train_split="train", test_split="test",
              family="cifar", crop_padding=4, random_flip=True, cache_in_memory=True)

# CIFAR-100 and ImageNet statistics are the ones their community uses (computed on
# the training sets); the bundled datasets' come from their training images (tests check).
_FIXED = {
    "cifar10": DatasetInfo("cifar10", num_classes=10, mean=(0.4914, 0.4822, 0.4465),
                           std=(0.2470, 0.2435, 0.2616), **_CIFAR),
    "cifar100": DatasetInfo("cifar100", num_classes=100, mean=(0.5071, 0.4865, 0.4409),
                            std=(0.2673, 0.2564, 0.2762), **_CIFAR),
    digits.NAME: DatasetInfo(digits.NAME, image_size=8, channels=1, num_classes=10,
                             mean=(0.3055,), std=(0.3759,), train_split="train",
                             test_split="test", family="cifar", crop_padding=1,
                             random_flip=False, cache_in_memory=True),
    # CIFAR's 4-pixel crop padding scaled to 28x28 (3.5), rounded down; no flips, as digits.
    mnist5k.NAME: DatasetInfo(mnist5k.NAME, image_size=28, channels=1, num_classes=10,
                              mean=(0.1311,), std=(0.3084,), train_split="train",
                              test_split="test", family="cifar", crop_padding=3,
                              random_flip=False, cache_in_memory=True),
}
BUNDLED = {dataset.name: dataset for dataset in (digits.DATASET, mnist5k.DATASET)}
IMAGENET = "imagenet2012"
ALIASES = {"imagenet": IMAGENET}
NAMES = tuple(_FIXED) + (IMAGENET,)


@gin.configurable
def info(name, imagenet_image_size=224):
  """The DatasetInfo of `name`; ImageNet's crop side is gin-bound (`info.imagenet_image_size`)."""
  name = ALIASES.get(name, name)
  if name in _FIXED:
    return _FIXED[name]
  if name == IMAGENET:
    return DatasetInfo(IMAGENET, image_size=imagenet_image_size, channels=3, num_classes=1000,
                       mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                       train_split="train", test_split="validation", family="imagenet",
                       crop_padding=0, random_flip=True, cache_in_memory=False)
  raise UsageError(f"unknown dataset {name!r}{did_you_mean(name, NAMES)}; choose one of "
                   f"{', '.join(NAMES)} (digits and mnist5k are bundled and work offline)")


@gin.configurable
def default_data_dir(path=None):
  """The data dir of calls that name none: gin `default_data_dir.path`, else TFDS's default.

  TFDS's default is $TFDS_DATA_DIR or ~/tensorflow_datasets.
  """
  return os.path.expanduser(path or tfds_constants.DATA_DIR)


def resolve_data_dir(data_dir: Optional[str]):
  return os.path.expanduser(data_dir) if data_dir else default_data_dir()


def load(name, split, data_dir=None):
  """Raw examples of one split, in stored order: (uint8 image [H, W, C], int32 label).

  Fails within seconds with a UsageError if the data is not prepared and cannot be
  prepared now; a bundled dataset is written into the data dir on first use.
  """
  return decode(info(name), load_encoded(name, split, data_dir))


def load_encoded(name, split, data_dir=None):
  """Like `load`, but images stay encoded (PNG/JPEG strings): cheap to filter before decoding."""
  facts = info(name)
  splits = (facts.train_split, facts.test_split)
  if split not in splits:
    raise UsageError(f"dataset {facts.name!r} has no split {split!r}; choose one of {splits}")
  data_dir = resolve_data_dir(data_dir)
  bundled = BUNDLED.get(facts.name)
  _check_data_dir(data_dir, bundled is not None and not bundled.is_prepared(data_dir))
  if bundled:
    bundled.prepare(data_dir)
  builder = availability.prepared_builder(facts.name, data_dir)
  examples = builder.as_dataset(split=split, shuffle_files=False,
                                decoders={"image": tfds.decode.SkipDecoding()})
  return examples.map(lambda example: (example["image"], tf.cast(example["label"], tf.int32)),
                      num_parallel_calls=AUTOTUNE)


def _check_data_dir(data_dir, written):
  """A data dir that is a file, or read-only when a bundled dataset must be `written` into
  it, is a UsageError here rather than an OSError from deep inside TFDS."""
  if os.path.exists(data_dir) and not os.path.isdir(data_dir):
    raise UsageError(f"data dir {data_dir!r} is a file; give a folder (SearchSetup.data_dir, "
                     "train_final.data_dir or default_data_dir.path)")
  existing = os.path.abspath(data_dir)
  while not os.path.exists(existing):
    existing = os.path.dirname(existing)
  if written and not os.access(existing, os.W_OK | os.X_OK):
    raise UsageError(f"data dir {data_dir!r} is read-only and the bundled dataset is not "
                     "prepared there yet (it is written on first use): give a writable data dir, "
                     "or one where it is prepared")


def decode(facts, encoded):
  """Decode (encoded image, label) pairs to uint8 images; cached in memory when small."""

  def decode_one(data, label):
    image = tf.io.decode_image(data, channels=facts.channels, expand_animations=False)
    return tf.ensure_shape(image, facts.stored_shape), label

  decoded = encoded.map(decode_one, num_parallel_calls=AUTOTUNE)
  return decoded.cache() if facts.cache_in_memory else decoded
