"""Dataset facts, bad names, and the fast failure when data is missing."""

import time

import gin
import pytest

from nat_tf.data import availability
from nat_tf.data import datasets
from nat_tf.errors import UsageError


def test_facts():
  cifar10 = datasets.info("cifar10")
  assert (cifar10.image_size, cifar10.channels, cifar10.num_classes) == (32, 3, 10)
  assert cifar10.mean == (0.4914, 0.4822, 0.4465) and cifar10.std == (0.2470, 0.2435, 0.2616)
  assert datasets.info("cifar100").num_classes == 100
  imagenet = datasets.info("imagenet")
  assert (imagenet.name, imagenet.image_size) == ("imagenet2012", 224)
  assert imagenet.test_split == "validation"
  assert datasets.info("digits").stored_shape == (8, 8, 1)
  assert imagenet.stored_shape == (None, None, 3)


def test_imagenet_image_size_is_gin_bound():
  with gin.unlock_config():
    gin.bind_parameter("info.imagenet_image_size", 299)
  try:
    assert datasets.info("imagenet2012").image_size == 299
  finally:
    gin.clear_config()


def test_unknown_dataset_and_split_name_the_fix():
  with pytest.raises(UsageError, match=r"'cifar10'.*digits"):
    datasets.info("cifar_10")
  with pytest.raises(UsageError, match=r"no split 'validation'.*'train', 'test'"):
    datasets.load("digits", "validation")


def test_default_data_dir_is_gin_bound(tmp_path):
  with gin.unlock_config():
    gin.bind_parameter("default_data_dir.path", str(tmp_path))
  try:
    assert datasets.resolve_data_dir(None) == str(tmp_path)
  finally:
    gin.clear_config()
  assert datasets.resolve_data_dir("/somewhere") == "/somewhere"


def _error_and_seconds(name, data_dir):
  start = time.monotonic()
  with pytest.raises(UsageError) as error:
    datasets.load(name, "train", data_dir=data_dir)
  return str(error.value), time.monotonic() - start


def test_missing_download_fails_fast_saying_how_to_prepare(tmp_path, monkeypatch):
  # A refused connection stands for "no internet" on any machine, online or not.
  monkeypatch.setitem(availability.DOWNLOAD_URLS, "cifar10", "http://127.0.0.1:1/cifar-10.tar.gz")
  message, seconds = _error_and_seconds("cifar10", str(tmp_path))
  assert seconds < 10
  for part in ("'cifar10'", str(tmp_path), "tfds build cifar10", "'digits'"):
    assert part in message


def test_missing_data_on_this_machine_fails_fast(tmp_path):
  if availability.reachable(availability.DOWNLOAD_URLS["cifar100"]):
    pytest.skip("this machine can download cifar100; the failure only happens offline")
  message, seconds = _error_and_seconds("cifar100", str(tmp_path))
  assert seconds < 10 and "tfds build cifar100" in message


def test_missing_imagenet_asks_for_its_manual_archives(tmp_path):
  message, seconds = _error_and_seconds("imagenet2012", str(tmp_path))
  assert seconds < 10
  assert availability.manual_dir(str(tmp_path)) in message and "ILSVRC2012_img_train.tar" in message


def test_unreachable_host_is_reported_within_the_timeout():
  start = time.monotonic()
  assert not availability.reachable("http://127.0.0.1:1/", timeout_s=2)
  assert time.monotonic() - start < 5
