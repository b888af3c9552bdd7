"""Per-example augmentation and normalisation, stateless so that a seed fixes it.

Every random choice takes an explicit seed (a shape-[2] integer tensor) and uses
TF's stateless random ops, so an example's crop, flip and jitter depend only on
that seed, never on how many ops ran before or in which thread: the pipeline can
rebuild an epoch exactly.

CIFAR family (CIFAR-10/100, digits, mnist5k): zero padding and a random crop back to the
stored size, a horizontal flip where the dataset allows it, normalisation with
the dataset's mean/std, then optional cutout (DARTS' order). ImageNet: random
resized crop, flip, colour jitter, normalisation; evaluation resizes the shorter
side and takes the centre crop.
"""

import gin
import tensorflow as tf

from nat_tf.errors import UsageError


def to_unit(image):
  """uint8 (or float 0..255) pixels as float32 in [0, 1]."""
  return tf.cast(image, tf.float32) / 255.0


def normalize(image, facts):
  """(x - mean) / std per channel, for an image in [0, 1]."""
  return (image - tf.constant(facts.mean)) / tf.constant(facts.std)


def padded_random_crop(image, padding, seed):
  """Zero-pad each side by `padding`, then crop a random window of the original size."""
  padded = tf.pad(image, [[padding, padding], [padding, padding], [0, 0]])
  return tf.image.stateless_random_crop(padded, image.shape, seed)


def cutout(image, length, seed):
  """Zero a length x length square (clipped at the borders) centred on a random pixel."""
  size = tf.shape(image)[:2]
  center = tf.cast(tf.random.stateless_uniform([2], seed) * tf.cast(size, tf.float32), tf.int32)
  rows = tf.range(size[0])[:, tf.newaxis]
  cols = tf.range(size[1])[tf.newaxis, :]
  half = length // 2
  inside = ((rows >= center[0] - half) & (rows < center[0] + half)
            & (cols >= center[1] - half) & (cols < center[1] + half))
  return image * tf.cast(~inside, image.dtype)[..., tf.newaxis]


@gin.configurable
def random_resized_crop(image, size, seed, area_range=(0.08, 1.0),
                        aspect_ratio_range=(3 / 4, 4 / 3)):
  """A random window (area and aspect ratio in the given ranges), resized to size x size."""
  begin, window, _ = tf.image.stateless_sample_distorted_bounding_box(
      tf.shape(image), bounding_boxes=tf.zeros([1, 0, 4]), seed=seed, min_object_covered=0.0,
      aspect_ratio_range=aspect_ratio_range, area_range=area_range, max_attempts=10,
      use_image_if_no_bounding_boxes=True)
  return tf.image.resize(tf.slice(image, begin, window), [size, size])


@gin.configurable
def color_jitter(image, seed, brightness=0.4, contrast=0.4, saturation=0.4, hue=0.2):
  """torchvision's ColorJitter(0.4, 0.4, 0.4, 0.2) on an RGB image in [0, 1], in a fixed order.

  Brightness scales the pixels; contrast and saturation blend with the mean and
  the grey image by a factor in [1 - s, 1 + s]; hue shifts by up to `hue` of a turn.
  """
  low = tf.constant([1 - brightness, 1 - contrast, 1 - saturation, -hue])
  high = tf.constant([1 + brightness, 1 + contrast, 1 + saturation, hue])
  bright, contrast_factor, saturation_factor, hue_delta = tf.unstack(
      tf.random.stateless_uniform([4], seed, low, high))
  image = tf.image.adjust_contrast(image * bright, contrast_factor)
  image = tf.image.adjust_hue(tf.image.adjust_saturation(image, saturation_factor), hue_delta)
  return tf.clip_by_value(image, 0.0, 1.0)


@gin.configurable
def center_crop(image, size, crop_fraction=0.875):
  """Resize the shorter side to size / crop_fraction (224 -> 256), then crop the centre."""
  shape = tf.cast(tf.shape(image)[:2], tf.float32)
  scale = round(size / crop_fraction) / tf.reduce_min(shape)
  resized = tf.image.resize(image, tf.cast(tf.round(shape * scale), tf.int32))
  return tf.image.resize_with_crop_or_pad(resized, size, size)


def train_transform(facts, cutout_length=0):
  """fn(uint8 image, seed) -> normalised float32 training image of `facts.image_size`."""
  if not 0 <= cutout_length < facts.image_size:
    raise UsageError(f"cutout length {cutout_length!r} does not fit {facts.name}'s "
                     f"{facts.image_size}x{facts.image_size} images; use 0 (off) to "
                     f"{facts.image_size - 1} (DARTS uses 16 on CIFAR)")

  def cifar(image, seed):
    crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    image = padded_random_crop(image, facts.crop_padding, crop_seed)
    if facts.random_flip:
      image = tf.image.stateless_random_flip_left_right(image, flip_seed)
    return to_unit(image)

  def imagenet(image, seed):
    crop_seed, flip_seed, jitter_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    image = to_unit(random_resized_crop(image, facts.image_size, crop_seed))
    return color_jitter(tf.image.stateless_random_flip_left_right(image, flip_seed), jitter_seed)

  augment = imagenet if facts.family == "imagenet" else cifar

  def transform(image, seed):
    augment_seed, cutout_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    image = normalize(augment(image, augment_seed), facts)
    return cutout(image, cutout_length, cutout_seed) if cutout_length else image

  return transform


def eval_transform(facts):
  """fn(uint8 image) -> normalised float32 evaluation image of `facts.image_size`."""

  def cifar(image):
    return normalize(to_unit(image), facts)

  def imagenet(image):
    return normalize(to_unit(center_crop(image, facts.image_size)), facts)

  return imagenet if facts.family == "imagenet" else cifar
