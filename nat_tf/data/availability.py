"""Prepared data or a fast, clear failure.

Offline, `tfds.load` of a dataset that is not prepared retries its download for
about 200 s before a ConnectionError that does not say what to do. Here a
dataset that is not in the data dir is prepared only when its source is there
right now (a download host that answers within seconds, or ImageNet's manually
downloaded archives); otherwise one UsageError names the dataset, the data dir
and how to prepare it.
"""

import os
import urllib.error
import urllib.request

import gin
import tensorflow_datasets as tfds

from nat_tf.errors import UsageError

# Where TFDS downloads each automatically downloadable dataset from (its builders' URLs).
DOWNLOAD_URLS = {
    "cifar10": "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
    "cifar100": "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
}
_ALTERNATIVES = ("point gin `default_data_dir.path` at the data dir that holds it, "
                 "or use a bundled offline dataset ('digits', 'mnist5k')")


@gin.configurable
def reachable(url, timeout_s=3.0):
  """Whether `url` answers a HEAD request with success within `timeout_s` (proxies honoured)."""
  try:
    request = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(request, timeout=timeout_s) as reply:
      return reply.status < 400
  except (urllib.error.URLError, OSError, ValueError):
    return False


def manual_dir(data_dir):
  """Where TFDS looks for archives that must be downloaded by hand (ImageNet)."""
  return os.path.join(data_dir, "downloads", "manual")


def prepared_builder(name, data_dir):
  """The TFDS builder of `name` in `data_dir`, prepared now if its source is at hand.

  Raises UsageError within seconds when the data is neither prepared nor preparable.
  """
  builder = tfds.builder(name, data_dir=data_dir)
  if not builder.is_prepared():
    if builder.MANUAL_DOWNLOAD_INSTRUCTIONS:
      _require_manual_archives(name, data_dir, builder.data_dir)
    else:
      _require_download(name, data_dir, builder.data_dir)
    builder.download_and_prepare()
  return builder


def _require_manual_archives(name, data_dir, version_dir):
  folder = manual_dir(data_dir)
  if not (os.path.isdir(folder) and os.listdir(folder)):
    raise UsageError(
        f"dataset {name!r} is not prepared in data dir {data_dir!r} (no {version_dir}) and "
        f"cannot be downloaded automatically: put its archives (for imagenet2012: "
        f"ILSVRC2012_img_train.tar and ILSVRC2012_img_val.tar) in {folder} and run "
        f"`tfds build {name} --data_dir={data_dir}`, or {_ALTERNATIVES}")


def _require_download(name, data_dir, version_dir):
  url = DOWNLOAD_URLS.get(name)
  if not (url and reachable(url)):
    raise UsageError(
        f"dataset {name!r} is not prepared in data dir {data_dir!r} (no {version_dir}) and "
        f"cannot be downloaded from here ({url or 'no known download URL'} does not answer): "
        f"on a machine with internet run `tfds build {name} --data_dir=DIR` and copy "
        f"DIR/{name} into {data_dir}, or {_ALTERNATIVES}")
